/// What a request asks the demo upstream to do, decided from the request target alone.
enum Route: Equatable {
    /// `/sse?events=N&interval=D`: a `text/event-stream` of N events, D apart.
    case eventStream(events: Int, interval: Duration)
    /// `/slow?delay=D`: a small JSON answer after D.
    case slow(delay: Duration)
    /// `/bytes?size=N[&chunked=1]`: N bytes of the deterministic pattern.
    case bytes(size: Int, chunked: Bool)
    /// `/status/{code}`: that status.
    case status(code: Int)
    /// `/redirect?to=/path[&code=302]`: an absolute redirect back to this server.
    case redirect(path: String, code: Int)
    /// `/cookies`: three `Set-Cookie` fields.
    case cookies
    /// `/reset?size=N&after=M`: promise N bytes, send M, then reset the connection.
    case reset(size: Int, after: Int)
    /// `/early?status=S`: answer S as soon as the head arrives, without reading the body.
    case early(status: Int)
    /// `/drop`: close without answering as soon as the head arrives.
    case drop
    /// A malformed parameter on a known route; answered with 400 so tests fail loudly rather than oddly.
    case invalid(reason: String)
    /// Everything else: describe the request back as JSON.
    case echo

    init(target: RequestTarget) {
        self = Route.resolve(target)
    }

    private static func resolve(_ target: RequestTarget) -> Route {
        let path = target.path
        switch path {
        case "/sse":
            guard let events = integer(target, "events", default: 10),
                let interval = duration(target, "interval", default: .milliseconds(100))
            else { return .invalid(reason: "events must be an integer, interval a duration") }
            return .eventStream(events: events, interval: interval)
        case "/slow":
            guard let delay = duration(target, "delay", default: .seconds(1)) else {
                return .invalid(reason: "delay must be a duration such as 2s or 250ms")
            }
            return .slow(delay: delay)
        case "/bytes":
            guard let size = integer(target, "size", default: 0) else {
                return .invalid(reason: "size must be a non-negative integer")
            }
            return .bytes(size: size, chunked: target.parameter("chunked").map { $0 == "1" || $0 == "true" } ?? false)
        case "/redirect":
            let to = target.parameter("to") ?? "/"
            guard let code = integer(target, "code", default: 302), (300...399).contains(code) else {
                return .invalid(reason: "code must be a 3xx status")
            }
            return .redirect(path: to.hasPrefix("/") ? to : "/" + to, code: code)
        case "/cookies":
            return .cookies
        case "/reset":
            guard let size = integer(target, "size", default: 1024),
                let after = integer(target, "after", default: size / 2)
            else { return .invalid(reason: "size and after must be non-negative integers") }
            return .reset(size: size, after: min(after, size))
        case "/early":
            guard let status = integer(target, "status", default: 413), (200...599).contains(status) else {
                return .invalid(reason: "status must be a final status between 200 and 599")
            }
            return .early(status: status)
        case "/drop":
            return .drop
        default:
            if path.hasPrefix("/status/") {
                guard let code = Int(path.dropFirst("/status/".count)), (100...599).contains(code) else {
                    return .invalid(reason: "status code must be between 100 and 599")
                }
                return .status(code: code)
            } else {
                return .echo
            }
        }
    }

    /// Whether the route answers on the request head, leaving the body unread.
    var answersBeforeBody: Bool {
        switch self {
        case .early, .drop: return true
        default: return false
        }
    }

    private static func integer(_ target: RequestTarget, _ name: String, default fallback: Int) -> Int? {
        guard let text = target.parameter(name) else { return fallback }
        guard let value = Int(text), value >= 0 else { return nil }
        return value
    }

    private static func duration(_ target: RequestTarget, _ name: String, default fallback: Duration) -> Duration? {
        guard let text = target.parameter(name) else { return fallback }
        return Duration(queryParameter: text)
    }
}
