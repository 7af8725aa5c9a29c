import Testing

/// The end-to-end suites run one at a time: some measure this process's memory and open
/// descriptors, which parallel tests would disturb.
@Suite(.serialized)
struct EndToEndTests {}
