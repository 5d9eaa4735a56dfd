import Foundation

/// The token file of `zipar generate --tokens-out` and `zipar decode --tokens`:
/// {"height": H, "width": W, "tokens": [...]}, H·W tokens in raster order.
public struct TokenFile: Codable, Sendable {
    public var height: Int
    public var width: Int
    public var tokens: [Int]

    public init(height: Int, width: Int, tokens: [Int]) {
        self.height = height
        self.width = width
        self.tokens = tokens
    }

    /// Reads and checks the token file at `path`; errors name the file.
    public static func read(_ path: String) throws -> TokenFile {
        let file: TokenFile
        do {
            file = try ModelFiles.decodeJSON(TokenFile.self, at: path)
        } catch let error as CheckpointError {
            throw CheckpointError(path, "not a token file ({\"height\": H, \"width\": W, \"tokens\": [...]}): \(error.message)")
        }
        let (cells, overflow) = file.height.multipliedReportingOverflow(by: file.width)
        guard file.height > 0, file.width > 0, !overflow, file.tokens.count == cells else {
            throw CheckpointError(path, "\(file.tokens.count) tokens for a \(file.height)×\(file.width) grid")
        }
        return file
    }
}
