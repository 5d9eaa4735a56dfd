/// LlamaGen's ResnetBlock forward pass on the workspace: the input is in `a`, the output ends in `a`.
enum ResnetBlock {
    static func forward(_ w: ResnetWeights, workspace ws: VQWorkspace, height: Int, width: Int) {
        Conv2D.applyNormalized(w.conv1, norm: w.norm1, input: ws.a.pointer, height: height, width: width,
                               output: ws.c.pointer, spare: ws.b.pointer, workspace: ws)
        if let shortcut = w.shortcut {
            Conv2D.apply(shortcut, input: ws.a.pointer, height: height, width: width, output: ws.b.pointer, workspace: ws)
            Conv2D.applyNormalized(w.conv2, norm: w.norm2, input: ws.c.pointer, height: height, width: width,
                                   output: ws.b.pointer, accumulate: true, spare: ws.c.pointer, workspace: ws)
            swap(&ws.a, &ws.b)
        } else {
            Conv2D.applyNormalized(w.conv2, norm: w.norm2, input: ws.c.pointer, height: height, width: width,
                                   output: ws.a.pointer, accumulate: true, spare: ws.c.pointer, workspace: ws)
        }
    }
}
