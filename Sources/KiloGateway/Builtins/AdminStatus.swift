import GatewayConfiguration
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The body of `GET /admin/status`: the original gateway's shape plus details.
///
/// ```json
/// {"gateway":true,"meds":true,"ml":false,"status":"degraded","checked_at":"2026-11-29T09:31:02Z",
///  "details":{"meds":{"healthy":true,"source":"healthCheck","endpoints":[{"url":"http://kilo-meds:9000",
///  "healthy":true,"ejected":false,"ejectedForSeconds":0,"ejections":0,"lastCheck":"2026-11-29T09:31:00Z",
///  "lastError":null}]}, …}}
/// ```
///
/// A service is `true` when at least one endpoint is usable (healthy and not ejected); `status` is
/// `online` when every service is `true`, else `degraded`. Services with `healthCheck:` answer from
/// their shared state at once; the others are probed now (`GET {url}/health`), all in parallel.
enum AdminStatus {
    /// The path probed on services without active health checks, as the original gateway did.
    static let probePath = "/health"

    /// Builds the page. With no service to probe, the returned future has already succeeded.
    static func collect(
        states: UpstreamStates,
        eventLoop: any EventLoop,
        probeTimeout: Duration = .seconds(2)
    ) -> EventLoopFuture<String> {
        let entries = states.snapshot().sorted { $0.key < $1.key }
        var probed: [EndpointState] = []
        var probes: [EventLoopFuture<ProbeResult>] = []
        for (_, entry) in entries where entry.config.settings.healthCheck == nil {
            for endpoint in entry.state.endpoints {
                probed.append(endpoint)
                probes.append(HealthProbe.check(endpoint.url, path: probePath, timeout: probeTimeout, on: eventLoop))
            }
        }
        guard !probes.isEmpty else {
            return eventLoop.makeSucceededFuture(render(entries, probeResults: [:]))
        }
        let endpoints = probed
        return EventLoopFuture.whenAllSucceed(probes, on: eventLoop).map { results in
            var byEndpoint: [ObjectIdentifier: ProbeResult] = [:]
            for (endpoint, result) in zip(endpoints, results) {
                byEndpoint[ObjectIdentifier(endpoint)] = result
            }
            return render(entries, probeResults: byEndpoint)
        }
    }

    /// What the page says about one endpoint.
    struct EndpointReport: Equatable {
        var url: String
        var healthy: Bool
        var ejected: Bool
        var ejectedForSeconds: Int
        var ejections: Int
        /// Unix seconds of the last check, if any.
        var lastCheck: Int?
        var lastError: String?

        var isUsable: Bool { healthy && !ejected }
    }

    /// Reports one service's endpoints: from its state, or from `probeResults` when it was probed.
    static func report(
        _ state: ServiceState,
        probeResults: [ObjectIdentifier: ProbeResult]?,
        now: NIODeadline,
        wallNow: Int
    ) -> [EndpointReport] {
        state.endpoints.map { endpoint in
            let details = endpoint.snapshot
            let ejected = endpoint.isEjected(now: now)
            var remaining = 0
            if ejected {
                let nanoseconds = endpoint.ejectedUntil.load(ordering: .relaxed) &- now.uptimeNanoseconds
                remaining = Int((nanoseconds + 999_999_999) / 1_000_000_000)
            }
            var report = EndpointReport(
                url: endpoint.url.description,
                healthy: endpoint.isHealthy,
                ejected: ejected,
                ejectedForSeconds: remaining,
                ejections: endpoint.ejectionCount,
                lastCheck: details.lastCheckAt.map { wallNow - Int((now - $0).nanoseconds / 1_000_000_000) },
                lastError: details.lastError
            )
            if let probeResults {
                let result = probeResults[ObjectIdentifier(endpoint)] ?? .unhealthy(reason: "not probed")
                report.healthy = result.isHealthy
                report.lastCheck = wallNow
                report.lastError = result.failureReason ?? details.lastError
            }
            return report
        }
    }

    static func render(_ entries: [(key: String, value: UpstreamStates.Entry)], probeResults: [ObjectIdentifier: ProbeResult]) -> String {
        let now = NIODeadline.now()
        let wallNow = Int(time(nil))
        var healthy: [String: Bool] = [:]
        var details: [String] = []
        for (name, entry) in entries {
            let checked = entry.config.settings.healthCheck != nil
            let endpoints = report(entry.state, probeResults: checked ? nil : probeResults, now: now, wallNow: wallNow)
            let serviceHealthy = endpoints.contains { $0.isUsable }
            healthy[name] = serviceHealthy
            let endpointObjects = endpoints.map { endpoint in
                var writer = JSONWriter(capacity: 192)
                writer.beginObject()
                writer.field("url", endpoint.url)
                writer.field("healthy", endpoint.healthy)
                writer.field("ejected", endpoint.ejected)
                writer.field("ejectedForSeconds", endpoint.ejectedForSeconds)
                writer.field("ejections", endpoint.ejections)
                if let lastCheck = endpoint.lastCheck {
                    writer.field("lastCheck", ISO8601UTC.format(unixSeconds: lastCheck))
                } else {
                    writer.nullField("lastCheck")
                }
                if let lastError = endpoint.lastError {
                    writer.field("lastError", lastError)
                } else {
                    writer.nullField("lastError")
                }
                writer.endObject()
                return writer.output
            }
            let source = checked ? "healthCheck" : "probe"
            details.append(
                quoted(name) + #":{"healthy":"# + (serviceHealthy ? "true" : "false") + #","source":""# + source
                    + #"","endpoints":["# + endpointObjects.joined(separator: ",") + "]}")
        }
        // JSONWriter has no arrays or raw values, so the outer object is assembled here; every
        // string in it is escaped by JSONWriter (`quoted`).
        var output = #"{"gateway":true"#
        output.reserveCapacity(256 + details.reduce(0) { $0 + $1.utf8.count })
        for (name, _) in entries {
            output += "," + quoted(name) + ":" + (healthy[name] == true ? "true" : "false")
        }
        let online = healthy.values.allSatisfy { $0 }
        output += #","status":"# + (online ? #""online""# : #""degraded""#)
        output += #","checked_at":"# + quoted(ISO8601UTC.format(unixSeconds: wallNow))
        output += #","details":{"# + details.joined(separator: ",") + "}}"
        return output
    }

    /// `string` as a JSON string literal, escaped by ``JSONWriter``.
    static func quoted(_ string: String) -> String {
        var writer = JSONWriter(capacity: string.utf8.count + 8)
        writer.beginObject()
        writer.field("", string)
        writer.endObject()
        // `{"":"…"}` → `"…"`
        return String(writer.output.dropFirst(4).dropLast())
    }
}

/// ISO 8601 timestamps in UTC with second precision (`2026-11-29T09:31:02Z`), without Foundation.
enum ISO8601UTC {
    static func format(unixSeconds: Int) -> String {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "Z"
    }

    /// The current time.
    static func now() -> String { format(unixSeconds: Int(time(nil))) }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
