/// A minimal JSON object writer for log lines and small replies, with correct string escaping.
///
/// Avoids Foundation's encoders on the request path: it appends to one string.
struct JSONWriter {
    private(set) var output: String = ""
    private var needsComma = false

    init(capacity: Int = 256) {
        output.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        output.append("{")
        needsComma = false
    }

    mutating func endObject() {
        output.append("}")
        needsComma = true
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        appendString(value)
    }

    mutating func field(_ name: String, _ value: Int) {
        key(name)
        output.append(String(value))
    }

    mutating func field(_ name: String, _ value: Double, decimals: Int = 3) {
        key(name)
        guard value.isFinite else {
            output.append("null")  // JSON has no NaN or infinity
            return
        }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        output.append(String(rounded))
    }

    mutating func field(_ name: String, _ value: Bool) {
        key(name)
        output.append(value ? "true" : "false")
    }

    mutating func nullField(_ name: String) {
        key(name)
        output.append("null")
    }

    /// Starts a nested object value under `name`; close it with `endObject()`.
    mutating func beginObject(_ name: String) {
        key(name)
        beginObject()
    }

    private mutating func key(_ name: String) {
        if needsComma { output.append(",") }
        appendString(name)
        output.append(":")
        needsComma = true
    }

    private mutating func appendString(_ value: String) {
        output.append("\"")
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escaped: String?
            switch scalar {
            case "\"": escaped = "\\\""
            case "\\": escaped = "\\\\"
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escaped = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escaped = nil
                }
            }
            if let escaped {
                output.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                output.append(escaped)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        output.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        output.append("\"")
    }
}
