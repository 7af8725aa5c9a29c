import Testing

@Suite struct PrometheusTextParserTests {
    @Test func parsesHelpTypeAndSamples() throws {
        let text = """
            # HELP http_requests_total Requests seen, with a \\\\ backslash.
            # TYPE http_requests_total counter
            http_requests_total{method="GET",code="200"} 1027
            http_requests_total{method="POST",path="/a \\"b\\"\\nc"} 3 1395066363000
            # A free comment
            up 1
            latency_bucket{le="+Inf"} +Inf
            latency_sum 1e-05

            """
        let exposition = try PrometheusTextParser.parseExposition(text)
        #expect(exposition.help["http_requests_total"] == "Requests seen, with a \\ backslash.")
        #expect(exposition.types["http_requests_total"] == "counter")
        #expect(exposition.samples.count == 5)
        #expect(exposition.value(of: "http_requests_total", labels: ["method": "GET", "code": "200"]) == 1027)
        #expect(exposition.value(of: "http_requests_total", labels: ["method": "POST", "path": "/a \"b\"\nc"]) == 3)
        #expect(exposition.value(of: "up") == 1)
        #expect(exposition.value(of: "latency_bucket", labels: ["le": "+Inf"]) == .infinity)
        #expect(exposition.value(of: "latency_sum") == 0.00001)
        #expect(exposition.samples.sum(of: "http_requests_total") == 1030)
        #expect(exposition.value(of: "http_requests_total", labels: ["method": "GET"]) == nil)
    }

    @Test(arguments: [
        "no_value",
        "name{a=\"b\"}",
        "name{a=\"b} 1",
        "name{a=b} 1",
        "name{a=\"\\x\"} 1",
        "name{a=\"1\",a=\"2\"} 1",
        "9name 1",
        "name one",
        "name 1 2 3",
        "name{1a=\"x\"} 1",
        "# TYPE name colour",
    ])
    func rejectsMalformedLines(_ line: String) {
        #expect(throws: PrometheusTextParser.ParseError.self) {
            try PrometheusTextParser.parse("ok 1\n\(line)\n")
        }
    }
}
