import Testing
@testable import GatewayConfiguration

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.42.0.0/16", "10.42.0.0/16", true, 16),
        ("127.0.0.1/32", "127.0.0.1/32", true, 32),
        ("127.0.0.1", "127.0.0.1/32", true, 32),
        ("0.0.0.0/0", "0.0.0.0/0", true, 0),
        ("192.168.1.128/25", "192.168.1.128/25", true, 25),
        ("fd00::/8", "fd00::/8", false, 8),
        ("2001:DB8::/32", "2001:db8::/32", false, 32),
        ("::1", "::1/128", false, 128),
        ("::/0", "::/0", false, 0),
        ("fe80::/10", "fe80::/10", false, 10),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8", true, 8),
        ("::ffff:0:0/96", "0.0.0.0/0", true, 0),
    ])
    func parses(text: String, description: String, isIPv4: Bool, prefixLength: Int) throws {
        let cidr = try #require(CIDR(text))
        #expect(cidr.description == description)
        #expect(cidr.isIPv4 == isIPv4)
        #expect(cidr.prefixLength == prefixLength)
    }

    @Test(arguments: [
        "", "/8", "10.42.0.0/", "10.42.0.0/33", "fd00::/129", "10.42.1.0/16", "fd00::1/8", "10.0.0.256/32",
        "10.0.0/8", "010.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ",
        "kilo-proxy/32", "fd00::/8/8", "1::2::3/64", "[::1]/128", "fe80::1%eth0/64", "10.0.0.0/1000", "10.0.0.0/8.0",
        "0x0a.0.0.0/8",
    ])
    func refuses(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test(arguments: [
        // IPv4, plain and as the IPv4-mapped IPv6 address a dual-stack socket reports.
        ("10.42.0.0/16", "10.42.0.1", true),
        ("10.42.0.0/16", "10.42.255.255", true),
        ("10.42.0.0/16", "10.43.0.0", false),
        ("10.42.0.0/16", "10.41.255.255", false),
        ("10.42.0.0/16", "::ffff:10.42.3.4", true),
        ("10.42.0.0/16", "::FFFF:10.42.3.4", true),
        ("10.42.0.0/16", "::ffff:0a2a:0001", true),
        ("10.42.0.0/16", "[::ffff:10.42.0.1]", true),
        ("10.42.0.0/16", "::ffff:10.43.0.1", false),
        ("10.42.0.0/16", "::10.42.0.1", false),  // IPv4-compatible, not mapped
        ("10.42.0.0/16", "fd00::1", false),
        ("10.42.0.0/16", "10.42.0.1:8080", false),
        ("10.42.0.0/16", "not-an-ip", false),
        ("10.42.0.0/16", "", false),
        ("10.42.0.0/16", "10.42.0.01", false),
        ("127.0.0.1/32", "127.0.0.1", true),
        ("127.0.0.1/32", "127.0.0.2", false),
        ("127.0.0.1/32", "::1", false),
        ("192.168.1.0/25", "192.168.1.127", true),
        ("192.168.1.0/25", "192.168.1.128", false),
        ("10.0.0.0/31", "10.0.0.1", true),
        ("10.0.0.0/31", "10.0.0.2", false),
        ("0.0.0.0/0", "1.2.3.4", true),
        ("0.0.0.0/0", "::ffff:1.2.3.4", true),
        ("0.0.0.0/0", "::1", false),
        ("::ffff:0:0/96", "192.168.1.1", true),
        ("::ffff:0:0/96", "::1", false),
        // IPv6.
        ("::1/128", "::1", true),
        ("::1/128", "0:0:0:0:0:0:0:1", true),
        ("::1/128", "[::1]", true),
        ("::1/128", "::2", false),
        ("::1/128", "127.0.0.1", false),
        ("fd00::/8", "fd12:3456::1", true),
        ("fd00::/8", "FD00::1", true),
        ("fd00::/8", "fe80::1", false),
        ("fe80::/10", "fe80::1%eth0", true),
        ("fe80::/10", "febf::1", true),
        ("fe80::/10", "fec0::1", false),
        ("2001:db8::/127", "2001:db8::1", true),
        ("2001:db8::/127", "2001:db8::2", false),
        ("2001:db8::/63", "2001:db8:0:1::1", true),
        ("2001:db8::/63", "2001:db8:0:2::", false),
        ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", true),
        ("2001:db8::/64", "2001:db8:0:1::", false),
        ("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true),
        ("2001:db8::/65", "2001:db8::8000:0:0:0", false),
        ("::/0", "::1", true),
        ("::/0", "10.0.0.1", true),  // documented: IPv4 is IPv4-mapped IPv6
        ("::/0", "bogus", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        let cidr = try #require(CIDR(network))
        #expect(cidr.contains(address) == expected, "\(network) contains \(address)")
    }

    @Test func mappedAndPlainIPv4AreTheSameNetwork() throws {
        #expect(CIDR("::ffff:10.0.0.0/104") == CIDR("10.0.0.0/8"))
        #expect(Set([CIDR("10.0.0.0/8"), CIDR("::ffff:a00:0/104")]).count == 1)
        #expect(CIDR("10.0.0.0/8") != CIDR("10.0.0.0/16"))
        #expect(CIDR("::/0") != CIDR("0.0.0.0/0"))
    }

    @Test func messagesSayWhatIsWrong() {
        #expect {
            try CIDR(configuration: "10.42.1.0/16")
        } throws: { error in
            (error as? InvalidValue)?.message == "\"10.42.1.0/16\" has bits set past its prefix (did you mean 10.42.0.0/16?)"
        }
        #expect {
            try CIDR(configuration: "fd00::/200")
        } throws: { error in
            (error as? InvalidValue)?.message == "invalid prefix length in \"fd00::/200\" (0-128 for IPv6)"
        }
        #expect {
            try CIDR(configuration: "10.42.0.0/33")
        } throws: { error in
            (error as? InvalidValue)?.message == "invalid prefix length in \"10.42.0.0/33\" (0-32 for IPv4)"
        }
        #expect {
            try CIDR(configuration: "proxy/32")
        } throws: { error in
            (error as? InvalidValue)?.message == "invalid network \"proxy/32\" (use address/prefix, as in 10.42.0.0/16 or fd00::/8)"
        }
    }

    @Test func trustedProxyLookup() throws {
        let config = GatewayConfig(trustedProxies: [try #require(CIDR("10.42.0.0/16")), try #require(CIDR("::1"))])
        #expect(config.isTrustedProxy("10.42.7.9"))
        #expect(config.isTrustedProxy("::ffff:10.42.7.9"))
        #expect(config.isTrustedProxy("::1"))
        #expect(!config.isTrustedProxy("192.168.1.20"))
        #expect(!GatewayConfig().isTrustedProxy("127.0.0.1"))
    }
}
