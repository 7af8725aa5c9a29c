import Logging
import NIOConcurrencyHelpers

/// Collects log messages and access-log lines in memory so tests can assert on them.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = NIOLockedValueBox<[Entry]>([])
    private let accessLines = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    var logged: [Entry] { entries.withLockedValue { $0 } }
    var access: [String] { accessLines.withLockedValue { $0 } }

    func recordAccess(_ line: String) {
        accessLines.withLockedValue { $0.append(line) }
    }

    fileprivate func record(_ entry: Entry) {
        entries.withLockedValue { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var flat: [String: String] = [:]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
                flat[key] = "\(value)"
            }
            capture.record(Entry(level: event.level, message: "\(event.message)", metadata: flat))
        }
    }
}
