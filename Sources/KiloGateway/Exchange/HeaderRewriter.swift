import NIOHTTP1

/// Builds the heads that cross the gateway: the request sent upstream and the response sent
/// back. Pure functions over values, tested without sockets.
enum HeaderRewriter {
    /// Facts about the client connection that end up in forwarding headers.
    struct ClientFacts {
        /// The client's IP address, without port.
        var address: String?
        /// `http` or `https`, as the client reached the gateway.
        var scheme: String
        /// The request id, kept from the client or generated.
        var requestID: RequestID
        /// The peer is a trusted proxy: its `X-Forwarded-*` are kept and the address is appended.
        var trustForwardedHeaders: Bool = false
        /// The protocol to ask the upstream to switch to (`websocket`), when the client asked for it.
        var upgrade: String? = nil
    }

    /// The head sent upstream: hop-by-hop headers (and those `Connection` names) removed,
    /// `Expect` removed (the gateway answers it), `Host` set to the upstream, `X-Forwarded-*` and
    /// `X-Request-ID` set, body framing re-derived. The general path: a head from an HTTP/1
    /// client is usually written from its bytes instead (`UpstreamRequestHead`).
    static func upstreamRequestHead(
        from client: HTTPRequestHead,
        target: String,
        upstreamAuthority: String,
        framing: RequestFraming,
        facts: ClientFacts
    ) -> HTTPRequestHead {
        let headers = upstreamRequestHeaders(
            client, upstreamAuthority: upstreamAuthority, framing: framing, facts: facts, named: HopByHopHeaders.namedByConnection(client.headers))
        return HTTPRequestHead(version: .http1_1, method: client.method, uri: target, headers: HTTPHeaders(headers))
    }

    /// The upstream request's headers; `named`: the names the client's `Connection` lists.
    private static func upstreamRequestHeaders(
        _ client: HTTPRequestHead,
        upstreamAuthority: String,
        framing: RequestFraming,
        facts: ClientFacts,
        named: [Substring]
    ) -> [(String, String)] {
        let trusted = facts.trustForwardedHeaders
        var headers: [(String, String)] = []
        headers.reserveCapacity(client.headers.count + 6)
        var originalHost: String?
        var forwardedFor = ""
        var hasForwardedProto = false
        var hasForwardedHost = false
        for (name, value) in client.headers {
            let kind = HeaderName(name)
            switch kind {
            case .connection, .transferEncoding, .otherHopByHop, .contentLength, .expect, .xRequestID:
                continue
            default:
                break
            }
            if HopByHopHeaders.isNamed(name, by: named) { continue }
            switch kind {
            case .host:
                if originalHost == nil { originalHost = value }
            case .xForwardedFor:
                // A trusted proxy in front: keep what it says and add the hop we saw.
                if trusted { forwardedFor = forwardedFor.isEmpty ? value : forwardedFor + ", " + value }
            case .xForwardedProto:
                if trusted {
                    hasForwardedProto = true
                    headers.append((name, value))
                }
            case .xForwardedHost:
                if trusted {
                    hasForwardedHost = true
                    headers.append((name, value))
                }
            default:
                headers.append((name, value))
            }
        }
        headers.append(("host", upstreamAuthority))
        // Anyone but a trusted proxy has its claims replaced: the gateway says what it saw.
        if let address = facts.address {
            headers.append(("x-forwarded-for", forwardedFor.isEmpty ? address : forwardedFor + ", " + address))
        } else if !forwardedFor.isEmpty {
            headers.append(("x-forwarded-for", forwardedFor))
        }
        if !hasForwardedProto { headers.append(("x-forwarded-proto", facts.scheme)) }
        if !hasForwardedHost, let originalHost { headers.append(("x-forwarded-host", originalHost)) }
        headers.append(("x-request-id", facts.requestID.description))
        if let upgrade = facts.upgrade {
            // An upgrade is hop-by-hop by nature; the gateway asks the upstream for it on its own hop.
            headers.append(("connection", "upgrade"))
            headers.append(("upgrade", upgrade))
        }
        switch framing {
        case .none:
            if methodExpectsBody(client.method) { headers.append(("content-length", "0")) }
        case .contentLength(let length):
            // Re-derived, never copied: a `Connection: content-length` must not strip it and
            // duplicate values must not travel on (RFC 9110 §8.6).
            headers.append(("content-length", String(length)))
        case .chunked:
            headers.append(("transfer-encoding", "chunked"))
        }
        return headers
    }

    /// The head sent to the client: hop-by-hop headers (and those `Connection` names) removed,
    /// request id added, a `Location` that points at the upstream rewritten, keep-alive decided
    /// by the caller. The general path: most heads are written from the upstream's bytes
    /// instead (`UpstreamResponseHead`).
    static func clientResponseHead(
        from upstream: HTTPResponseHead,
        clientVersion: HTTPVersion,
        requestID: RequestID,
        location: @autoclosure () -> LocationRewriter?,
        keepAlive: Bool
    ) -> HTTPResponseHead {
        let headers = clientResponseHeaders(
            upstream, requestID: requestID, location: location, keepAlive: keepAlive, clientVersion: clientVersion,
            named: HopByHopHeaders.namedByConnection(upstream.headers))
        return HTTPResponseHead(version: clientVersion, status: upstream.status, headers: HTTPHeaders(headers))
    }

    private static func clientResponseHeaders(
        _ upstream: HTTPResponseHead,
        requestID: RequestID,
        location: () -> LocationRewriter?,
        keepAlive: Bool,
        clientVersion: HTTPVersion,
        named: [Substring]
    ) -> [(String, String)] {
        var headers: [(String, String)] = []
        headers.reserveCapacity(upstream.headers.count + 2)
        var hasTransferCoding = false
        var hasRequestID = false
        var upgrade: String?
        var hasLength = false
        for (name, value) in upstream.headers {
            let kind = HeaderName(name)
            switch kind {
            case .connection:
                continue
            case .transferEncoding:
                hasTransferCoding = true
                continue
            case .otherHopByHop:
                if upgrade == nil, HopByHopHeaders.equalsIgnoringCase(name, "upgrade") { upgrade = value }
                continue
            default:
                break
            }
            if HopByHopHeaders.isNamed(name, by: named) { continue }
            switch kind {
            case .contentLength:
                hasLength = true
                headers.append((name, value))
            case .xRequestID:
                hasRequestID = true
                headers.append((name, value))
            case .location:
                headers.append((name, location().flatMap { $0.rewrite(value) } ?? value))
            default:
                headers.append((name, value))
            }
        }
        if hasTransferCoding, hasLength {
            headers.removeAll { HeaderName($0.0) == .contentLength }  // a transfer coding wins over a length (RFC 9112 §6.3)
        }
        if !hasRequestID { headers.append(("x-request-id", requestID.description)) }
        if upstream.status == .switchingProtocols, let upgrade {
            headers.append(("connection", "upgrade"))
            headers.append(("upgrade", upgrade))
        } else if !keepAlive {
            headers.append(("connection", "close"))
        } else if clientVersion == .http1_0 {
            headers.append(("connection", "keep-alive"))
        }
        return headers
    }

    /// Methods whose requests are expected to carry a body, so an empty one is sent as `Content-Length: 0`.
    static func methodExpectsBody(_ method: HTTPMethod) -> Bool {
        switch method {
        case .POST, .PUT, .PATCH: return true
        default: return false
        }
    }

    /// Whether a response to this request and status can carry a body at all.
    static func responseMayHaveBody(method: HTTPMethod, status: HTTPResponseStatus) -> Bool {
        if method.isHEAD { return false }
        switch status.code {
        case 100..<200, 204, 304: return false
        default: return true
        }
    }
}
