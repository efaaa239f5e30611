import IntermodalCore
import Testing

/// One reading of sizes for every flag (`run --memory`, `--max-layer-size`, `vm run --memory`):
/// before, three parsers disagreed (`1t` and `64mb` were sizes to one and errors to another).
@Suite struct ByteSizeTests {
    @Test func unitsAreBinaryAndCaseAndATrailingBDoNotMatter() {
        #expect(ByteSize.parse("1048576") == 1 << 20)
        #expect(ByteSize.parse("1048576b") == 1 << 20)
        #expect(ByteSize.parse("512k") == 512 << 10)
        #expect(ByteSize.parse("64mb") == 64 << 20)
        #expect(ByteSize.parse("64MB") == 64 << 20)
        #expect(ByteSize.parse("16g") == 16 << 30)
        #expect(ByteSize.parse("1t") == 1 << 40)
        #expect(ByteSize.parse("2TB") == 2 << 40)
    }

    @Test func aBareNumberCountsTheCallersUnit() {
        #expect(ByteSize.parse("512", bareUnit: 1 << 20) == 512 << 20)
        #expect(ByteSize.parse("512b", bareUnit: 1 << 20) == 512, "an explicit b means bytes")
        #expect(ByteSize.parse("1g", bareUnit: 1 << 20) == 1 << 30)
    }

    @Test func malformedZeroNegativeAndTooLargeAreNil() {
        for text in ["", "b", "k", "kb", "m", "-1", "+5", "0", "0m", "1.5g", "1x", "1 g", "g1", "1gg", "9223372036854775807k", "99999999999999999999"] {
            #expect(ByteSize.parse(text) == nil, "'\(text)'")
        }
    }

    @Test func describeUsesTheLargestUnitThatDivides() {
        #expect(ByteSize.describe(16 << 30) == "16 GiB")
        #expect(ByteSize.describe(512 << 20) == "512 MiB")
        #expect(ByteSize.describe(1536 << 20) == "1536 MiB")
        #expect(ByteSize.describe(1000) == "1000 bytes")
    }
}
