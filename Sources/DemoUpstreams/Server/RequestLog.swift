/// The bounded request history behind ``Stats/requests``.
struct RequestLog {
    private var entries: [RecordedRequest] = []
    private(set) var totalCount = 0
    let limit: Int

    init(limit: Int = Stats.recordedRequestLimit) {
        self.limit = limit
    }

    mutating func append(_ request: RecordedRequest) {
        self.entries.append(request)
        self.totalCount += 1
        // Trimming in bulk once twice the limit is reached keeps appends amortised O(1) under benchmark load.
        if self.entries.count >= 2 * self.limit {
            self.entries.removeFirst(self.entries.count - self.limit)
        }
    }

    /// The most recent `limit` requests, oldest first.
    var recent: [RecordedRequest] {
        Array(self.entries.suffix(self.limit))
    }
}
