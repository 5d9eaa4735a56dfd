import Foundation
import Hummingbird

/// An error in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with its HTTP status:
/// what every `/v1` route answers with, so the OpenAI SDKs raise the matching exception.
public struct APIError: Error, HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error type: invalid_request_error, authentication_error, not_found_error, rate_limit_error,
    /// server_error, unavailable_error.
    public var type: String
    /// The request field at fault, when one is.
    public var param: String?
    public var code: String?
    /// Seconds a client should wait before retrying: sent as `Retry-After` (whole seconds, at least 1) and
    /// `retry-after-ms` (which OpenAI's SDKs read first).
    public var retryAfter: Double?
    /// True when the connection closes after this answer (sent as `Connection: close`).
    public var closesConnection = false

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil,
                retryAfter: Double? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    /// 400: a field is missing, of the wrong type or out of range.
    public static func invalid(_ message: String, param: String?, code: String = "invalid_value") -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// `seconds` as a message says it: tenths below 10 s, whole seconds above.
    static func rounded(_ seconds: Double) -> String {
        seconds < 10 ? String(format: "%.1f", seconds) : String(Int(seconds.rounded(.up)))
    }

    /// The JSON body: `{"error": {...}}` (param and code are null when absent, as OpenAI sends them).
    public var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: code)) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter {
            headers[.retryAfter] = String(Int(max(1, retryAfter.rounded(.up))))
            headers[.init("retry-after-ms")!] = String(Int((retryAfter * 1000).rounded(.up)))
        }
        if closesConnection { headers[.connection] = "close" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSON.encode(body))))
    }

    /// `{"error": …}`.
    public struct ErrorBody: Codable, Equatable, Sendable {
        public var error: Detail
        public struct Detail: Codable, Equatable, Sendable {
            public var message: String
            public var type: String
            public var param: String?
            public var code: String?

            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }
        }
    }
}

/// JSON encoding with sorted keys (stable bytes for tests and logs).
enum JSON {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }

    /// An `application/json` response of `value`, with `headers` beside the content type.
    static func response(_ status: HTTPResponse.Status = .ok, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encode(value))))
    }
}

/// Turns every error a route throws into an `APIError`: Hummingbird's own (404 for an unknown route, 413 for
/// a body over the limit, 405) keep their status; a gone client's cancellation is a 499; anything else is a
/// 500 that names no internals.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            throw APIError.from(status: error.status)
        } catch is CancellationError {
            // The client went away: nobody reads the answer; 499 (nginx's "client closed request") for the metrics.
            throw APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"), message: "the client closed the connection",
                           type: "invalid_request_error", code: "client_closed_request")
        } catch {
            context.logger.error("request failed: \(error)")
            throw APIError(status: .internalServerError, message: "internal error", type: "server_error")
        }
    }
}

extension APIError {
    /// The OpenAI error for a bare HTTP status.
    static func from(status: HTTPResponse.Status) -> APIError {
        switch status.code {
        case 404: return APIError(status: status, message: "no such route", type: "invalid_request_error", code: "not_found")
        case 413: return APIError(status: status, message: "the request body is too large", type: "invalid_request_error",
                                  code: "request_too_large")
        case 400..<500: return APIError(status: status, message: status.reasonPhrase, type: "invalid_request_error")
        default: return APIError(status: status, message: status.reasonPhrase, type: "server_error")
        }
    }
}
