import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct GatewayMetricsTests {
    private static let families: Set<String> = [
        "kilo_gateway_requests_total", "kilo_gateway_request_duration_seconds",
        "kilo_gateway_upstream_attempts_total", "kilo_gateway_upstream_retries_total",
        "kilo_gateway_upstream_endpoint_healthy", "kilo_gateway_upstream_ejections_total",
        "kilo_gateway_admission_rejections_total", "kilo_gateway_in_flight_requests",
        "kilo_gateway_config_reloads_total", "kilo_gateway_upstream_connections",
    ]
    private static let les = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                              "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "+Inf"]

    private static func render(_ metrics: GatewayMetrics) throws -> PrometheusExposition {
        try PrometheusTextParser.parseExposition(String(decoding: metrics.render(), as: UTF8.self))
    }

    /// Every sample belongs to a known family with HELP and TYPE; histograms are consistent.
    private static func checkWellFormed(_ exposition: PrometheusExposition) {
        for sample in exposition.samples {
            let family = exposition.family(of: sample.name)
            #expect(families.contains(family), "unexpected family \(family)")
            #expect(exposition.help[family]?.isEmpty == false, "no HELP for \(family)")
            #expect(exposition.types[family] != nil, "no TYPE for \(family)")
            #expect(sample.value.isFinite && sample.value >= 0)
        }
        let histogram = "kilo_gateway_request_duration_seconds"
        #expect(exposition.types[histogram] == "histogram")
        let services = Set(exposition.samples.named(histogram + "_count").compactMap { $0.labels["service"] })
        for service in services {
            var previous = -1.0
            for le in les {
                let labels = ["service": service, "le": le]
                guard let bucket = exposition.value(of: histogram + "_bucket", labels: labels) else {
                    Issue.record("missing bucket le=\(le) for \(service)")
                    continue
                }
                #expect(bucket >= previous, "buckets of \(service) not cumulative at le=\(le)")
                previous = bucket
            }
            #expect(exposition.samples.named(histogram + "_bucket").filter { $0.labels["service"] == service }.count
                    == les.count)
            let count = exposition.value(of: histogram + "_count", labels: ["service": service])
            #expect(count == previous, "+Inf bucket != _count for \(service)")
            #expect(exposition.value(of: histogram + "_sum", labels: ["service": service]) != nil)
        }
    }

    @Test func knownMixOnTwoLoops() throws {
        let metrics = GatewayMetrics()
        let names = ["users", "orders"]
        let loopA = LoopMetrics(metrics: metrics, serviceNames: names)
        let loopB = LoopMetrics(metrics: metrics, serviceNames: names)

        loopA.recordRequest(service: 0, method: .GET, status: 200, duration: .milliseconds(2))
        loopA.recordRequest(service: 0, method: .GET, status: 200, duration: .milliseconds(20))
        loopA.recordRequest(service: 0, method: .GET, status: 200, duration: .milliseconds(200))
        loopA.recordRequest(service: 0, method: .POST, status: 201, duration: .microseconds(500))
        loopA.recordRequest(service: 1, method: .DELETE, status: 503, duration: .seconds(70))
        loopA.recordRequest(service: 1, method: .DELETE, status: 503, duration: .seconds(1))
        loopB.recordRequest(service: 0, method: .GET, status: 200, duration: .milliseconds(1))
        loopB.recordRequest(service: 0, method: .GET, status: 200, nanoseconds: 0)
        loopB.recordRequest(service: nil, method: .GET, status: 404, duration: .milliseconds(3))
        loopB.recordRequest(service: 99, method: .HEAD, status: 404, duration: .milliseconds(3))
        loopB.recordRequest(service: 1, method: .RAW(value: "BREW"), status: 418, duration: .milliseconds(7))
        loopB.recordRequest(service: 1, method: .PROPFIND, status: 418, duration: .milliseconds(7))
        loopB.recordRequest(service: 1, method: .RAW(value: "PATCH"), status: 999, duration: .milliseconds(7))

        loopA.recordAttempt(service: 0, outcome: .success)
        loopB.recordAttempt(service: 0, outcome: .success)
        loopA.recordAttempt(service: 1, outcome: .upstream5xx)
        loopA.recordAttempt(service: 1, outcome: .staleConnection)
        loopB.recordRetry(service: 1, reason: .staleConnection)
        loopB.recordRetry(service: 1, reason: .connect)
        loopA.recordRetry(service: 1, reason: .connect)
        loopA.recordAdmissionRejection(service: 0, reason: .concurrency)
        loopB.recordAdmissionRejection(service: nil, reason: .noHealthyEndpoint)
        loopA.adjustInFlight(service: 0, by: 1)
        loopB.adjustInFlight(service: 0, by: 1)
        loopB.adjustInFlight(service: 1, by: 1)
        loopA.adjustUpstreamConnections(service: 1, by: 3)
        loopB.adjustUpstreamConnections(service: 1, by: -1)
        metrics.setEndpointHealthy(service: "users", endpoint: "http://10.0.0.1:80", healthy: true)
        metrics.setEndpointHealthy(service: "users", endpoint: "http://10.0.0.2:80", healthy: false)
        metrics.recordEjection(service: "users", endpoint: "http://10.0.0.2:80")
        metrics.recordEjection(service: "users", endpoint: "http://10.0.0.2:80")
        metrics.recordConfigReload(success: true)
        metrics.recordConfigReload(success: false)
        metrics.recordConfigReload(success: true)

        let exposition = try Self.render(metrics)
        Self.checkWellFormed(exposition)
        let samples = exposition.samples

        // Requests: exactly these series with these values.
        let expectedRequests: [[String: String]: Double] = [
            ["service": "users", "method": "GET", "code": "200"]: 5,
            ["service": "users", "method": "POST", "code": "201"]: 1,
            ["service": "orders", "method": "DELETE", "code": "503"]: 2,
            ["service": "unknown", "method": "GET", "code": "404"]: 1,
            ["service": "unknown", "method": "HEAD", "code": "404"]: 1,
            ["service": "orders", "method": "OTHER", "code": "418"]: 2,
            ["service": "orders", "method": "PATCH", "code": "0"]: 1,
        ]
        let requests = samples.named("kilo_gateway_requests_total")
        #expect(requests.count == expectedRequests.count)
        for sample in requests {
            #expect(expectedRequests[sample.labels] == sample.value, "\(sample)")
        }
        #expect(exposition.types["kilo_gateway_requests_total"] == "counter")

        // Histograms.
        let histogram = "kilo_gateway_request_duration_seconds"
        func bucket(_ service: String, _ le: String) -> Double? {
            exposition.value(of: histogram + "_bucket", labels: ["service": service, "le": le])
        }
        #expect(bucket("users", "0.001") == 3)  // 0, 0.5 ms, 1 ms (bounds are inclusive)
        #expect(bucket("users", "0.005") == 4)
        #expect(bucket("users", "0.025") == 5)
        #expect(bucket("users", "0.25") == 6)
        #expect(bucket("users", "+Inf") == 6)
        #expect(exposition.value(of: histogram + "_count", labels: ["service": "users"]) == 6)
        let usersSum = try #require(exposition.value(of: histogram + "_sum", labels: ["service": "users"]))
        #expect(abs(usersSum - 0.2235) < 1e-9)
        #expect(bucket("orders", "0.005") == 0)
        #expect(bucket("orders", "0.01") == 3)  // three at 7 ms
        #expect(bucket("orders", "0.5") == 3)
        #expect(bucket("orders", "1.0") == 4)
        #expect(bucket("orders", "60.0") == 4)
        #expect(bucket("orders", "+Inf") == 5)
        let ordersSum = try #require(exposition.value(of: histogram + "_sum", labels: ["service": "orders"]))
        #expect(abs(ordersSum - 71.021) < 1e-9)
        #expect(exposition.value(of: histogram + "_count", labels: ["service": "unknown"]) == 2)

        // Attempts, retries, rejections: configured services start at 0 for every label value.
        func attempts(_ service: String, _ outcome: AttemptOutcome) -> Double? {
            samples.value(of: "kilo_gateway_upstream_attempts_total", labels: ["service": service, "outcome": outcome.rawValue])
        }
        #expect(attempts("users", .success) == 2)
        #expect(attempts("orders", .upstream5xx) == 1)
        #expect(attempts("orders", .staleConnection) == 1)
        #expect(attempts("orders", .timeout) == 0)
        #expect(samples.named("kilo_gateway_upstream_attempts_total").count == 2 * AttemptOutcome.allCases.count)
        #expect(samples.value(of: "kilo_gateway_upstream_retries_total", labels: ["service": "orders", "reason": "connect"]) == 2)
        #expect(samples.value(of: "kilo_gateway_upstream_retries_total",
                              labels: ["service": "orders", "reason": "stale_connection"]) == 1)
        #expect(samples.value(of: "kilo_gateway_upstream_retries_total",
                              labels: ["service": "users", "reason": "closed_before_response"]) == 0)
        #expect(samples.value(of: "kilo_gateway_admission_rejections_total",
                              labels: ["service": "users", "reason": "concurrency"]) == 1)
        #expect(samples.value(of: "kilo_gateway_admission_rejections_total",
                              labels: ["service": "unknown", "reason": "no_healthy_endpoint"]) == 1)
        #expect(samples.named("kilo_gateway_admission_rejections_total").count
                == 2 * AdmissionRejectionReason.allCases.count + 1)

        // Gauges shared by both loops.
        #expect(samples.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "users"]) == 2)
        #expect(samples.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "orders"]) == 1)
        #expect(samples.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "unknown"]) == 0)
        #expect(samples.value(of: "kilo_gateway_upstream_connections", labels: ["service": "orders"]) == 2)
        #expect(exposition.types["kilo_gateway_in_flight_requests"] == "gauge")

        // Off-path metrics.
        #expect(samples.value(of: "kilo_gateway_upstream_endpoint_healthy",
                              labels: ["service": "users", "endpoint": "http://10.0.0.1:80"]) == 1)
        #expect(samples.value(of: "kilo_gateway_upstream_endpoint_healthy",
                              labels: ["service": "users", "endpoint": "http://10.0.0.2:80"]) == 0)
        #expect(samples.value(of: "kilo_gateway_upstream_ejections_total",
                              labels: ["service": "users", "endpoint": "http://10.0.0.2:80"]) == 2)
        #expect(samples.value(of: "kilo_gateway_config_reloads_total", labels: ["result": "success"]) == 2)
        #expect(samples.value(of: "kilo_gateway_config_reloads_total", labels: ["result": "failure"]) == 1)

        metrics.removeEndpoint(service: "users", endpoint: "http://10.0.0.2:80")
        let afterRemoval = try Self.render(metrics)
        #expect(afterRemoval.samples.named("kilo_gateway_upstream_endpoint_healthy").count == 1)
    }

    @Test func cardinalityStaysBoundedUnderRandomTraffic() throws {
        let metrics = GatewayMetrics()
        let names = ["users", "orders", "billing"]
        let loops = [LoopMetrics(metrics: metrics, serviceNames: names), LoopMetrics(metrics: metrics, serviceNames: names)]
        var random = SeededRandom(seed: 0x5EED)
        let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .OPTIONS, .TRACE, .CONNECT, .MKCOL, .SOURCE]
        let statuses = [200, 201, 204, 301, 304, 400, 401, 404, 418, 429, 500, 502, 503, 504, 42, 1000, -1]
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.")
        func randomWord(_ length: Int) -> String {
            String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
        }
        for _ in 0..<10_000 {
            // A random path: `/<segment>/…`; the first segment names the service if it is configured.
            let segment = Int.random(in: 0..<4, using: &random) == 0
                ? names.randomElement(using: &random)! : randomWord(Int.random(in: 1...12, using: &random))
            let path = "/\(segment)/\(randomWord(8))"
            let service = path.split(separator: "/").first.flatMap { names.firstIndex(of: String($0)) }
            let method: HTTPMethod = Bool.random(using: &random)
                ? methods.randomElement(using: &random)! : .RAW(value: randomWord(Int.random(in: 1...7, using: &random)).uppercased())
            let loop = loops[Int.random(in: 0..<2, using: &random)]
            loop.recordRequest(service: service, method: method, status: statuses.randomElement(using: &random)!,
                               nanoseconds: Int64.random(in: 0...90_000_000_000, using: &random))
        }

        let exposition = try Self.render(metrics)
        Self.checkWellFormed(exposition)
        let requests = exposition.samples.named("kilo_gateway_requests_total")
        let allowedServices = Set(names + ["unknown"])
        let allowedMethods: Set = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]
        let allowedCodes = Set(statuses.map { $0 >= 100 && $0 < 600 ? String($0) : "0" })
        for sample in requests {
            #expect(Set(sample.labels.keys) == ["service", "method", "code"])
            #expect(allowedServices.contains(sample.labels["service"] ?? ""), "\(sample)")
            #expect(allowedMethods.contains(sample.labels["method"] ?? ""), "\(sample)")
            #expect(allowedCodes.contains(sample.labels["code"] ?? ""), "\(sample)")
        }
        #expect(requests.count <= allowedServices.count * allowedMethods.count * allowedCodes.count)
        #expect(Set(requests.map(\.labels)).count == requests.count)
        #expect(requests.reduce(0) { $0 + $1.value } == 10_000)
        #expect(exposition.samples.sum(of: "kilo_gateway_request_duration_seconds_count") == 10_000)
        let histogramServices = Set(exposition.samples.named("kilo_gateway_request_duration_seconds_count")
            .compactMap { $0.labels["service"] })
        #expect(histogramServices == allowedServices)
        #expect(exposition.samples.count < 1_000)
    }

    @Test func inFlightReturnsToZeroAcrossConcurrentLoops() async throws {
        let metrics = GatewayMetrics()
        let names = ["users", "orders"]
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let loop = LoopMetrics(metrics: metrics, serviceNames: names)
                    for round in 0..<20_000 {
                        let service = round % 3 == 0 ? nil : round % 2
                        loop.adjustInFlight(service: service, by: 1)
                        loop.recordRequest(service: service, method: .GET, status: 200, nanoseconds: 1_000)
                        loop.adjustInFlight(service: service, by: -1)
                    }
                }
            }
        }
        let loopA = LoopMetrics(metrics: metrics, serviceNames: names)
        let loopB = LoopMetrics(metrics: metrics, serviceNames: names)
        loopA.adjustInFlight(service: 0, by: 1)
        loopB.adjustInFlight(service: 0, by: 1)
        var exposition = try Self.render(metrics)
        #expect(exposition.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "users"]) == 2)
        loopB.adjustInFlight(service: 0, by: -1)
        loopA.adjustInFlight(service: 0, by: -1)

        exposition = try Self.render(metrics)
        Self.checkWellFormed(exposition)
        for service in ["users", "orders", "unknown"] {
            #expect(exposition.value(of: "kilo_gateway_in_flight_requests", labels: ["service": service]) == 0)
        }
        #expect(exposition.samples.sum(of: "kilo_gateway_requests_total") == 40_000)
        #expect(exposition.samples.sum(of: "kilo_gateway_request_duration_seconds_count") == 40_000)
    }

    @Test func updateKeepsCountersOfServicesThatStay() throws {
        let metrics = GatewayMetrics()
        let loop = LoopMetrics(metrics: metrics, serviceNames: ["users", "orders"])
        let users = loop.service(0)
        let unknown = loop.service(nil)
        loop.recordRequest(service: 0, method: .GET, status: 200, nanoseconds: 1_000_000)
        loop.adjustInFlight(service: 0, by: 1)

        loop.update(serviceNames: ["billing", "users"])
        #expect(loop.serviceCount == 2)
        #expect(loop.service(1) === users)
        #expect(loop.service(nil) === unknown)
        #expect(loop.service(2) === unknown)
        #expect(loop.serviceIndex(named: "users") == 1)
        #expect(loop.serviceIndex(named: "orders") == nil)
        loop.recordRequest(service: 1, method: .GET, status: 200, nanoseconds: 1_000_000)
        loop.recordRequest(service: 0, method: .GET, status: 200, nanoseconds: 1_000_000)
        users.adjustInFlight(by: -1)  // a request that started before the reload ends after it

        // A loop created after the reload gets the same shared objects.
        let other = LoopMetrics(metrics: metrics, serviceNames: ["billing", "users"])
        other.recordRequest(service: 1, method: .GET, status: 200, nanoseconds: 1_000_000)

        let exposition = try Self.render(metrics)
        Self.checkWellFormed(exposition)
        let getOK = ["method": "GET", "code": "200"]
        #expect(exposition.value(of: "kilo_gateway_requests_total", labels: getOK.merging(["service": "users"]) { $1 }) == 3)
        #expect(exposition.value(of: "kilo_gateway_requests_total", labels: getOK.merging(["service": "billing"]) { $1 }) == 1)
        #expect(exposition.value(of: "kilo_gateway_request_duration_seconds_count", labels: ["service": "users"]) == 3)
        #expect(exposition.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "users"]) == 0)
    }

    @Test func registryHandsOutOneObjectPerNameAndLabels() {
        let metrics = GatewayMetrics()
        #expect(metrics.requestCounter(service: "a", method: .get, code: 200)
                === metrics.requestCounter(service: "a", method: .get, code: 200))
        #expect(metrics.requestCounter(service: "a", method: .get, code: 200)
                !== metrics.requestCounter(service: "a", method: .get, code: 201))
        #expect(metrics.inFlightGauge(service: "a") === metrics.inFlightGauge(service: "a"))
        #expect(metrics.attemptCounter(service: "a", outcome: .timeout) === metrics.attemptCounter(service: "a", outcome: .timeout))
        #expect(metrics.latencyHistogram(service: "a") === metrics.latencyHistogram(service: "a"))
    }

    @Test func labelValuesAreEscaped() throws {
        let metrics = GatewayMetrics()
        let name = "we\"ird\\svc\nx"
        let loop = LoopMetrics(metrics: metrics, serviceNames: [name])
        loop.recordRequest(service: 0, method: .GET, status: 200, nanoseconds: 5)
        let exposition = try Self.render(metrics)
        Self.checkWellFormed(exposition)
        #expect(exposition.value(of: "kilo_gateway_requests_total", labels: ["service": name, "method": "GET", "code": "200"]) == 1)
        #expect(exposition.value(of: "kilo_gateway_request_duration_seconds_count", labels: ["service": name]) == 1)
    }

    @Test func methodAndStatusLabels() {
        #expect(MethodLabel(.GET) == .get)
        #expect(MethodLabel(.OPTIONS) == .options)
        #expect(MethodLabel(.RAW(value: "DELETE")) == .delete)
        #expect(MethodLabel(.RAW(value: "get")) == .other)
        #expect(MethodLabel(.TRACE) == .other)
        #expect(MethodLabel.allCases.map(\.name) == MethodLabel.names)
        #expect(StatusLabel.normalize(99) == 0)
        #expect(StatusLabel.normalize(100) == 100)
        #expect(StatusLabel.normalize(599) == 599)
        #expect(StatusLabel.normalize(600) == 0)
        #expect(Duration.milliseconds(1500).nanosecondsForMetrics == 1_500_000_000)
        #expect(Duration.nanoseconds(-7).nanosecondsForMetrics == -7)
        #expect(Duration.seconds(Int64.max).nanosecondsForMetrics == .max)
        #expect(AttemptOutcome.allCases.map(\.ordinal) == Array(0..<AttemptOutcome.allCases.count))
        #expect(RetryReason.allCases.map(\.ordinal) == Array(0..<RetryReason.allCases.count))
        #expect(AdmissionRejectionReason.allCases.map(\.ordinal) == Array(0..<AdmissionRejectionReason.allCases.count))
    }
}
