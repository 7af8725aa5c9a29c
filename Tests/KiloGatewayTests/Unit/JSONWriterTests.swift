import Foundation
import Testing

@testable import KiloGateway

@Suite struct JSONWriterTests {
    private func object(_ build: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        build(&writer)
        writer.endObject()
        return writer.output
    }

    private func parse(_ json: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        return try #require(value as? [String: Any])
    }

    @Test func writesAFlatObject() throws {
        let json = object { writer in
            writer.field("s", "text")
            writer.field("i", -42)
            writer.field("t", true)
            writer.field("f", false)
            writer.nullField("n")
        }
        #expect(json == #"{"s":"text","i":-42,"t":true,"f":false,"n":null}"#)
        let parsed = try parse(json)
        #expect(parsed["s"] as? String == "text")
        #expect(parsed["i"] as? Int == -42)
        #expect(parsed["n"] is NSNull)
    }

    @Test func emptyObject() {
        #expect(object { _ in } == "{}")
    }

    @Test func nestedObjects() throws {
        let json = object { writer in
            writer.field("a", 1)
            writer.beginObject("inner")
            writer.field("b", "x")
            writer.beginObject("deeper")
            writer.endObject()
            writer.endObject()
            writer.field("c", 2)
        }
        #expect(json == #"{"a":1,"inner":{"b":"x","deeper":{}},"c":2}"#)
        let parsed = try parse(json)
        #expect((parsed["inner"] as? [String: Any])?["b"] as? String == "x")
        #expect(parsed["c"] as? Int == 2)
    }

    @Test(arguments: [
        ("\"", #""\"""#),
        ("\\", #""\\""#),
        ("a\nb", #""a\nb""#),
        ("\r\t", #""\r\t""#),
        ("\u{0}", #""\u0000""#),
        ("\u{8}\u{c}", #""\u0008\u000c""#),
        ("\u{1f}", #""\u001f""#),
        ("\u{7f}", "\"\u{7f}\""),
        ("/", #""/""#),
        ("é✓🙂", "\"é✓🙂\""),
        ("\u{2028}", "\"\u{2028}\""),
        ("e\u{301}", "\"e\u{301}\""),
        ("\u{FEFF}\n\u{FEFF}", "\"\u{FEFF}\\n\u{FEFF}\""),
    ])
    func escapesStrings(_ value: String, _ expected: String) {
        let json = object { $0.field("k", value) }
        #expect(json == #"{"k":"# + expected + "}")
    }

    @Test func everyStringRoundTripsThroughJSONSerialization() throws {
        var random = SeededRandom(seed: 11)
        // No U+FEFF here: swift-corelibs-foundation drops it after an escape sequence when parsing.
        let alphabet: [Unicode.Scalar] = (0..<0x80).compactMap(Unicode.Scalar.init) + ["é", "✓", "🙂", "\u{2028}", "\u{10FFFF}"]
        for _ in 0..<500 {
            var value = ""
            for _ in 0..<Int.random(in: 0..<24, using: &random) {
                value.unicodeScalars.append(alphabet.randomElement(using: &random)!)
            }
            let json = object { writer in
                writer.field(value, value)
            }
            let parsed = try parse(json)
            #expect(parsed[value] as? String == value, "\(json.debugDescription)")
        }
    }

    @Test(arguments: [
        (1.23456, "1.235"),
        (0.0, "0.0"),
        (2.0, "2.0"),
        (-0.0004, "-0.0"),
        (12.5, "12.5"),
    ])
    func roundsDoubles(_ value: Double, _ expected: String) throws {
        let json = object { $0.field("d", value) }
        #expect(json == #"{"d":"# + expected + "}")
        _ = try parse(json)
    }

    @Test func doubleDecimalsAreConfigurable() {
        #expect(object { $0.field("d", 1.23456, decimals: 1) } == #"{"d":1.2}"#)
        #expect(object { $0.field("d", 1.6, decimals: 0) } == #"{"d":2.0}"#)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteDoublesStayValidJSON(_ value: Double) throws {
        let json = object { $0.field("d", value) }
        _ = try parse(json)
    }

    @Test func largeIntegersAreExact() {
        #expect(object { $0.field("i", Int.max) } == #"{"i":9223372036854775807}"#)
        #expect(object { $0.field("i", Int.min) } == #"{"i":-9223372036854775808}"#)
    }
}
