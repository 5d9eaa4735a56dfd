/// LlamaGen's ResnetBlock forward pass on the workspace: the input is in `a`, the output ends in `a`.
enum ResnetBlock {
    static func forward(_ w: ResnetWeights, workspace ws: VQWorkspace, height: Int, width: Int) {
        let plane = height * width
        GroupNorm.apply(w.norm1, input: ws.a.pointer, channels: w.cin, plane: plane, output: ws.b.pointer, swish: true)
        Conv2D.apply(w.conv1, input: ws.b.pointer, height: height, width: width, output: ws.c.pointer, columns: ws.columns)
        GroupNorm.apply(w.norm2, input: ws.c.pointer, channels: w.cout, plane: plane, output: ws.c.pointer, swish: true)
        if let shortcut = w.shortcut {
            Conv2D.apply(shortcut, input: ws.a.pointer, height: height, width: width, output: ws.b.pointer, columns: ws.columns)
            Conv2D.apply(w.conv2, input: ws.c.pointer, height: height, width: width, output: ws.b.pointer,
                         accumulate: true, columns: ws.columns)
            swap(&ws.a, &ws.b)
        } else {
            Conv2D.apply(w.conv2, input: ws.c.pointer, height: height, width: width, output: ws.a.pointer,
                         accumulate: true, columns: ws.columns)
        }
    }
}
