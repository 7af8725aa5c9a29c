import DemoUpstreams
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// A bounded soak: many requests across misbehaving upstreams, then resources return to their level.
    @Suite struct Soak {
        @Test(.timeLimit(.minutes(3)))
        func mixedTrafficLeavesNoDescriptorsOrMemoryBehind() async throws {
            let idleClosing = Behaviour(idleClose: .milliseconds(0)...(.milliseconds(20)))
            try await withGateway(
                clusters: ["svc": [idleClosing, idleClosing, Behaviour()]],
                configure: {
                    $0.outlierDetection.baseEjectionTime = .milliseconds(200)
                    $0.pool.idleTimeout = .milliseconds(500)
                }
            ) { gateway in
                _ = try await EndToEndTests.Cluster.load(gateway, path: "/api/svc/warm", count: 500, concurrency: 16)
                try await Task.sleep(for: .seconds(1))
                let descriptorsBefore = ProcessStats.openDescriptors()
                let residentBefore = ProcessStats.residentBytes()

                let total = 20_000
                let workers = 16
                let batch = 50
                let restarts = Task {
                    for _ in 0..<3 {
                        try await Task.sleep(for: .milliseconds(700))
                        try await gateway.upstream("svc/2").stop()
                        try await Task.sleep(for: .milliseconds(100))
                        try await gateway.upstream("svc/2").restart()
                    }
                }
                let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                    for worker in 0..<workers {
                        group.addTask {
                            var failed = 0
                            var sent = 0
                            var index = worker
                            while index < total {
                                if index % 100 == 7 {
                                    // An aborted download: the client goes away mid-body.
                                    _ = try? await gateway.send(
                                        TestRequest(uri: "/api/svc/bytes?size=8388608"), collectBody: false, abortAfterBytes: 64 << 10)
                                    index += workers
                                    continue
                                }
                                var requests: [TestRequest] = []
                                while requests.count < batch && index < total {
                                    if index % 100 != 7 {
                                        requests.append(
                                            index % 10 == 3
                                                ? TestRequest(method: .POST, uri: "/api/svc/post?i=\(index)", body: .bytes(Array(repeating: 7, count: 2_000)))
                                                : TestRequest(uri: "/api/svc/get?i=\(index)"))
                                    }
                                    index += workers
                                }
                                let responses = try await TestClient.sendAll(requests, port: gateway.port, group: TestGroups.client)
                                sent += requests.count
                                failed += requests.count - responses.filter { $0.status == 200 && $0.complete }.count
                            }
                            return failed
                        }
                    }
                    return try await group.reduce(0, +)
                }
                try await restarts.value
                print("soak: \(failures) of \(total) requests failed")
                // Everything sent was either answered or, at most, a small share hit a restart window.
                #expect(failures <= total / 200, "\(failures) failed requests")

                var descriptorsAfter = Int.max
                for _ in 0..<100 {
                    descriptorsAfter = ProcessStats.openDescriptors()
                    if descriptorsAfter <= descriptorsBefore + 8 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let residentAfter = ProcessStats.residentBytes()
                #expect(descriptorsAfter <= descriptorsBefore + 8, "descriptors \(descriptorsBefore) → \(descriptorsAfter)")
                #expect(residentAfter - residentBefore < 48 << 20, "resident \(residentBefore >> 20) → \(residentAfter >> 20) MiB")
                #expect(await gateway.server.activeRequestCount() == 0)
            }
        }
    }
}
