import Atomics

/// A lock-free duration histogram for one service, rendered in Prometheus histogram format.
///
/// swift-prometheus's `DurationHistogram.record` takes a mutex and walks every bucket on each
/// call, so the request path uses this instead: `record` finds the bucket with a linear scan of
/// 14 `Int64` bounds (early exit) and does two relaxed atomic adds (the bucket, the sum of
/// nanoseconds). Buckets are stored non-cumulative with a final overflow (`+Inf`) slot; the count
/// is their sum, so a rendering always has `+Inf == _count` and cumulative buckets, even while
/// other threads record (`_sum` may lag or lead by the in-progress observations).
final class LatencyHistogram: Sendable {
    /// Upper bounds (inclusive, `le`) in seconds: 1 ms … 60 s.
    static let boundsInSeconds: [Double] = [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    /// The `service` label value.
    let service: String
    /// Upper bounds in nanoseconds, parallel to `boundsInSeconds`.
    private let boundsNanos: [Int64]
    /// Observations per bucket, not cumulative; the last slot is above the largest bound.
    private let buckets: [ManagedAtomic<Int>]
    private let sumNanos = ManagedAtomic<Int64>(0)
    /// `name_bucket{service="…",le="…"} ` per bound, then `+Inf`, `_sum{…} `, `_count{…} `.
    private let prerenderedPrefixes: [[UInt8]]

    init(name: String, service: String) {
        self.service = service
        let bounds = Self.boundsInSeconds
        self.boundsNanos = bounds.map { Int64(($0 * 1e9).rounded()) }
        self.buckets = (0...bounds.count).map { _ in ManagedAtomic(0) }

        var labels = [UInt8]()
        labels.append(contentsOf: #"service=""#.utf8)
        labels.appendEscapedPrometheusLabelValue(service)
        labels.append(UInt8(ascii: "\""))

        var prefixes = [[UInt8]]()
        for le in bounds.map({ "\($0)" }) + ["+Inf"] {
            prefixes.append(Array("\(name)_bucket{".utf8) + labels + Array(#",le="\#(le)"} "#.utf8))
        }
        prefixes.append(Array("\(name)_sum{".utf8) + labels + Array("} ".utf8))
        prefixes.append(Array("\(name)_count{".utf8) + labels + Array("} ".utf8))
        self.prerenderedPrefixes = prefixes
    }

    /// Records one observation (negative durations count as zero).
    func record(nanoseconds: Int64) {
        let value = max(nanoseconds, 0)
        var index = 0
        let bounds = boundsNanos
        while index < bounds.count, value > bounds[index] {
            index += 1
        }
        buckets[index].wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: value, ordering: .relaxed)
    }

    /// Appends the `_bucket`, `_sum` and `_count` lines.
    func emit(into buffer: inout [UInt8]) {
        var cumulative = 0
        for index in buckets.indices {
            cumulative += buckets[index].load(ordering: .relaxed)
            buffer.append(contentsOf: prerenderedPrefixes[index])
            buffer.append(contentsOf: String(cumulative).utf8)
            buffer.append(UInt8(ascii: "\n"))
        }
        let sumSeconds = Double(sumNanos.load(ordering: .relaxed)) / 1e9
        buffer.append(contentsOf: prerenderedPrefixes[buckets.count])
        buffer.append(contentsOf: "\(sumSeconds)".utf8)
        buffer.append(UInt8(ascii: "\n"))
        buffer.append(contentsOf: prerenderedPrefixes[buckets.count + 1])
        buffer.append(contentsOf: String(cumulative).utf8)
        buffer.append(UInt8(ascii: "\n"))
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64` bounds.
    var nanosecondsForMetrics: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }
}
