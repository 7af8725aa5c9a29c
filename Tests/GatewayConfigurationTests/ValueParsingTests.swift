import Testing
@testable import GatewayConfiguration

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("10s", .seconds(10)),
        ("1.5s", .milliseconds(1500)),
        ("2m", .seconds(120)),
        ("1h", .seconds(3600)),
        ("0.25ms", .microseconds(250)),
        ("0s", .zero),
        ("300s", .seconds(300)),
    ])
    func accepted(text: String, expected: Duration) throws {
        #expect(try Duration(configuration: text) == expected)
    }

    @Test(arguments: ["", "10", "5 secs", "10 s", "s", "1.s", ".5s", "1..5s", "-1s", "10S", "1d", "1h30m", "99999999999999h"])
    func refused(text: String) {
        #expect(throws: InvalidValue.self) { try Duration(configuration: text) }
    }

    @Test func messagesListTheAcceptedUnits() {
        #expect {
            try Duration(configuration: "10")
        } throws: { error in
            (error as? InvalidValue)?.message == "invalid duration \"10\": a unit is required (use 500ms, 10s, 2m, 1h)"
        }
    }
}

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("512", 512), ("512B", 512), ("64KiB", 65_536), ("1MiB", 1_048_576), ("1GiB", 1_073_741_824),
        ("64KB", 64_000), ("1MB", 1_000_000), ("2GB", 2_000_000_000), ("0", 0),
    ])
    func accepted(text: String, expected: Int) throws {
        #expect(try ByteSize.parse(text) == expected)
    }

    @Test(arguments: ["", "KiB", "64 KiB", "64kib", "1.5MiB", "-1", "1TiB", "99999999999999999999GiB"])
    func refused(text: String) {
        #expect(throws: InvalidValue.self) { try ByteSize.parse(text) }
    }

    @Test func sizeProblemNamesKeyAndLine() {
        let problem = onlyProblem(in: "defaults:\n  retries:\n    replayBuffer: 64 KiB\nservices: {}")
        #expect(problem == ConfigurationProblem(
            key: "defaults.retries.replayBuffer", line: 3,
            message: "invalid size \"64 KiB\" (use 512, 64KiB, 1MiB, 1GiB)"))
    }
}

@Suite struct AddressParsingTests {
    @Test(arguments: [
        ("http://kilo-meds:9000", UpstreamURL(host: "kilo-meds", port: 9000)),
        ("http://kilo-meds", UpstreamURL(host: "kilo-meds", port: 80)),
        ("http://10.0.0.1:8080/api/", UpstreamURL(host: "10.0.0.1", port: 8080, basePath: "/api")),
        ("http://[::1]:9000/x/y", UpstreamURL(host: "::1", port: 9000, basePath: "/x/y")),
        ("http://[fe80::1]", UpstreamURL(host: "fe80::1", port: 80)),
        ("http://a/", UpstreamURL(host: "a", port: 80)),
        ("https://kilo-voice:9008", UpstreamURL(scheme: "https", host: "kilo-voice", port: 9008)),
        ("https://kilo-voice", UpstreamURL(scheme: "https", host: "kilo-voice", port: 443)),
        ("HTTPS://[::1]/v1/", UpstreamURL(scheme: "https", host: "::1", port: 443, basePath: "/v1")),
    ])
    func upstreamURLs(text: String, expected: UpstreamURL) throws {
        #expect(try UpstreamURL(configuration: text) == expected)
    }

    @Test(arguments: ["", "127.0.0.1", "::1:8080", "[::1]", "[::1]8080", "host:port", ":99999", "a b:80"])
    func refusedListenAddresses(text: String) {
        #expect(throws: InvalidValue.self) { try ListenAddress(configuration: text) }
    }
}
