import GatewayConfiguration

/// Chooses an endpoint for one attempt. Pure: the caller passes which endpoints are usable,
/// how many requests each has in flight on this event loop, and its random source.
///
/// `leastRequest` is the power of two random choices (as Envoy's LEAST_REQUEST): two usable
/// endpoints drawn at random, the one with fewer requests in flight wins. It avoids herding
/// onto one "least loaded" endpoint while still steering away from slow ones.
struct EndpointSelector {
    /// - Parameters:
    ///   - usable: per endpoint, whether it may take requests now (healthy, not ejected).
    ///   - active: per endpoint, requests in flight from this event loop.
    ///   - avoid: an endpoint to skip when another is usable (the one a retry just failed on).
    ///   - cursor: round-robin position, advanced on each pick.
    ///   - random: returns a number in `0..<upperBound`.
    static func pick(
        policy: ServiceSettings.Balancing,
        usable: [Bool],
        active: [Int],
        avoid: Int? = nil,
        cursor: inout Int,
        random: (Int) -> Int
    ) -> Int? {
        var candidates: [Int] = []
        candidates.reserveCapacity(usable.count)
        for index in usable.indices where usable[index] && index != avoid {
            candidates.append(index)
        }
        if candidates.isEmpty, let avoid, usable.indices.contains(avoid), usable[avoid] {
            candidates = [avoid]  // the only usable endpoint is the one that failed: try it again
        }
        switch candidates.count {
        case 0:
            return nil
        case 1:
            return candidates[0]
        default:
            break
        }
        switch policy {
        case .roundRobin:
            cursor = cursor &+ 1
            return candidates[Int(UInt(bitPattern: cursor) % UInt(candidates.count))]
        case .leastRequest:
            let first = random(candidates.count)
            var second = random(candidates.count - 1)
            if second >= first { second += 1 }
            let a = candidates[first]
            let b = candidates[second]
            return active[b] < active[a] ? b : a
        }
    }
}
