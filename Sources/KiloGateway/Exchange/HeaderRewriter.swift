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
        var requestID: String
        /// The peer is a trusted proxy: its `X-Forwarded-*` are kept and the address is appended.
        var trustForwardedHeaders: Bool = false
        /// The protocol to ask the upstream to switch to (`websocket`), when the client asked for it.
        var upgrade: String? = nil
    }

    /// The head sent upstream: hop-by-hop headers removed, `Host` set to the upstream,
    /// `X-Forwarded-*` and `X-Request-ID` set, body framing re-derived.
    static func upstreamRequestHead(
        from client: HTTPRequestHead,
        target: String,
        upstreamAuthority: String,
        framing: RequestFraming,
        facts: ClientFacts
    ) -> HTTPRequestHead {
        var headers = client.headers
        HopByHopHeaders.remove(from: &headers)
        let originalHost = headers.first(name: "host")
        headers.replaceOrAdd(name: "host", value: upstreamAuthority)
        if facts.trustForwardedHeaders {
            // A trusted proxy in front: keep what it says and add the hop we saw.
            let previous = headers[canonicalForm: "x-forwarded-for"].joined(separator: ", ")
            if let address = facts.address {
                headers.replaceOrAdd(name: "x-forwarded-for", value: previous.isEmpty ? address : previous + ", " + address)
            }
            if !headers.contains(name: "x-forwarded-proto") { headers.add(name: "x-forwarded-proto", value: facts.scheme) }
            if !headers.contains(name: "x-forwarded-host"), let originalHost {
                headers.add(name: "x-forwarded-host", value: originalHost)
            }
        } else {
            // Anyone else's claims are replaced: the gateway says what it saw.
            if let address = facts.address {
                headers.replaceOrAdd(name: "x-forwarded-for", value: address)
            } else {
                headers.remove(name: "x-forwarded-for")
            }
            headers.replaceOrAdd(name: "x-forwarded-proto", value: facts.scheme)
            if let originalHost {
                headers.replaceOrAdd(name: "x-forwarded-host", value: originalHost)
            } else {
                headers.remove(name: "x-forwarded-host")
            }
        }
        headers.replaceOrAdd(name: "x-request-id", value: facts.requestID)
        if let upgrade = facts.upgrade {
            // An upgrade is hop-by-hop by nature; the gateway asks the upstream for it on its own hop.
            headers.replaceOrAdd(name: "connection", value: "upgrade")
            headers.replaceOrAdd(name: "upgrade", value: upgrade)
        }
        switch framing {
        case .none:
            headers.remove(name: "content-length")
            if methodExpectsBody(client.method) { headers.add(name: "content-length", value: "0") }
        case .contentLength(let length):
            // Re-derived, never copied: a `Connection: content-length` must not strip it and
            // duplicate values must not travel on (RFC 9110 §8.6).
            headers.replaceOrAdd(name: "content-length", value: String(length))
        case .chunked:
            headers.remove(name: "content-length")
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        // The gateway answers `Expect: 100-continue` itself (or lets the upstream's 100 through),
        // never both: the upstream sees the expectation and may answer it.
        return HTTPRequestHead(version: .http1_1, method: client.method, uri: target, headers: headers)
    }

    /// The head sent to the client: hop-by-hop headers removed, request id added, a
    /// `Location` that points at the upstream rewritten, keep-alive decided by the caller.
    static func clientResponseHead(
        from upstream: HTTPResponseHead,
        clientVersion: HTTPVersion,
        requestID: String,
        location: LocationRewriter?,
        keepAlive: Bool
    ) -> HTTPResponseHead {
        var headers = upstream.headers
        let hasTransferCoding = headers.contains(name: "transfer-encoding")
        HopByHopHeaders.remove(from: &headers)
        if hasTransferCoding && headers.contains(name: "content-length") {
            headers.remove(name: "content-length")  // a transfer coding wins over a length (RFC 9112 §6.3)
        }
        if !headers.contains(name: "x-request-id") {
            headers.add(name: "x-request-id", value: requestID)
        }
        if let location, let value = headers.first(name: "location"), let rewritten = location.rewrite(value) {
            headers.replaceOrAdd(name: "location", value: rewritten)
        }
        if upstream.status == .switchingProtocols, let upgrade = upstream.headers.first(name: "upgrade") {
            headers.replaceOrAdd(name: "connection", value: "upgrade")
            headers.replaceOrAdd(name: "upgrade", value: upgrade)
        } else if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if clientVersion == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: clientVersion, status: upstream.status, headers: headers)
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
        if method == .HEAD { return false }
        switch status.code {
        case 100..<200, 204, 304: return false
        default: return true
        }
    }
}
