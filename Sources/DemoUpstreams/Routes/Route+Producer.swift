import NIOCore
import NIOHTTP1

extension Route {
    /// The producer that answers this route.
    /// - Parameter request: The recorded request, body digested; nil for routes that answer before the body.
    func makeProducer(request: RecordedRequest?) -> any ResponseProducer {
        switch self {
        case .echo:
            return FixedResponse { exchange in
                exchange.respond(.ok, json: Self.echoDocument(exchange: exchange, request: request))
            }
        case .eventStream(let events, let interval):
            return EventStreamProducer(events: events, interval: interval)
        case .slow(let delay):
            return FixedResponse(after: delay) { exchange in
                exchange.respond(.ok, json: .object([("delayedMilliseconds", .integer(Int(delay.wholeNanoseconds / 1_000_000)))]))
            }
        case .bytes(let size, let chunked):
            return PatternBodyProducer(sendLength: size, declaredLength: chunked ? nil : size, ending: .complete)
        case .status(let code):
            return FixedResponse { exchange in Self.respondWithStatus(code, exchange: exchange) }
        case .redirect(let path, let code):
            return FixedResponse { exchange in
                let location = "http://\(exchange.authority)\(path)"
                exchange.respond(
                    HTTPResponseStatus(statusCode: code),
                    headers: ["location": location],
                    json: .object([("location", .string(location))])
                )
            }
        case .cookies:
            return FixedResponse { exchange in
                var headers = HTTPHeaders()
                // Separate fields on purpose: Set-Cookie is the one header that must never be folded with commas.
                headers.add(name: "set-cookie", value: "session=abc123; Path=/; HttpOnly")
                headers.add(name: "set-cookie", value: "theme=dark; Path=/; Max-Age=3600")
                headers.add(name: "set-cookie", value: "lang=en-GB; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT")
                exchange.respond(.ok, headers: headers, json: .object([("cookies", .integer(3))]))
            }
        case .reset(let size, let after):
            return PatternBodyProducer(sendLength: after, declaredLength: size, ending: .reset)
        case .early(let status):
            return FixedResponse { exchange in
                let body = exchange.jsonBody(.object([("status", .integer(status)), ("early", .bool(true))]))
                exchange.keepAlive = false
                exchange.writeHead(
                    HTTPResponseStatus(statusCode: status),
                    headers: ["content-type": "application/json", "content-length": String(body.readableBytes)]
                )
                exchange.writeBody(body)
                exchange.endWithLingeringClose()
            }
        case .drop:
            return FixedResponse { exchange in exchange.close() }
        case .invalid(let reason):
            return FixedResponse { exchange in
                exchange.respond(.badRequest, json: .object([("error", .string(reason))]))
            }
        }
    }

    private static func respondWithStatus(_ code: Int, exchange: Exchange) {
        let status = HTTPResponseStatus(statusCode: code)
        let document = JSONValue.object([("status", .integer(code))])
        switch code {
        case 101:
            // There is no protocol to switch to; say so and hang up rather than leave the client guessing.
            exchange.keepAlive = false
            exchange.respond(status, body: ByteBuffer())
        case 100..<200:
            // A 1xx is never a final answer, so it is sent as an interim response ahead of a final 200.
            exchange.writeInformational(status)
            exchange.respond(.ok, json: document)
        case 204, 304:
            exchange.respond(status, body: ByteBuffer())
        default:
            exchange.respond(status, json: document)
        }
    }

    private static func echoDocument(exchange: Exchange, request: RecordedRequest?) -> JSONValue {
        let target = exchange.target
        return .object([
            ("method", .string(exchange.head.method.rawValue)),
            ("uri", .string(target.raw)),
            ("path", .string(target.path)),
            ("query", target.query.map(JSONValue.string) ?? .null),
            ("headers", .array(exchange.head.headers.map { .array([.string($0.name), .string($0.value)]) })),
            ("bodyLength", .integer(request?.bodyLength ?? 0)),
            ("bodySHA256", .string(request?.bodySHA256 ?? SHA256.hexDigest([]))),
            ("server", .string(exchange.authority)),
        ])
    }
}
