import Foundation

/// The page `GET /` serves (Web/index.html): a prompt, the schedule and window, and the job's image filling
/// in beside the wavefront, from the job's event stream.
enum WebPage {
    static let html: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "html", subdirectory: "Web"),
              let data = try? Data(contentsOf: url) else {
            return Array("<!doctype html><title>zipar serve</title><p>The page's file (Web/index.html) is missing from this build.".utf8)
        }
        return Array(data)
    }()
}
