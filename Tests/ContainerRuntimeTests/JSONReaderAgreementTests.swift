@testable import ContainerRuntime
import IntermodalCore
import Testing

/// The runtime's start-path reader behind IntermodalCore's JSON.decode: a bad document gets
/// the same error from it as from Foundation's JSONDecoder (FastJSON may say more: a null
/// where a value belongs is "expected a boolean, found null", Foundation's "expected a boolean").
@Suite("FastJSON behind JSON.decode")
struct JSONReaderAgreementTests {
    struct Document: Codable, Equatable {
        struct Inner: Codable, Equatable { var flag: Bool }
        var name: String
        var sizes: [Int]
        var inner: Inner?
    }

    static func message(_ text: String, _ reader: any JSONReader.Type) -> String? {
        do {
            _ = try JSON.decode(Document.self, from: Array(text.utf8), what: "doc.json", reader: reader)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("the same message for a wrong type, a missing field and a null, and 'not valid JSON' for bad text")
    func sameErrorsAsFoundation() {
        for text in [#"{"name":"x","sizes":[1,"two"]}"#, #"{"sizes":[]}"#, #"{"name":"x","sizes":[],"inner":{"flag":null}}"#] {
            let fast = Self.message(text, FastJSON.self), foundation = Self.message(text, FoundationJSONReader.self)
            #expect(foundation != nil && fast?.hasPrefix(foundation ?? "-") == true, "\(text): \(fast ?? "nil") / \(foundation ?? "nil")")
        }
        for reader: any JSONReader.Type in [FastJSON.self, FoundationJSONReader.self] {
            #expect(Self.message(#"{"name":"#, reader)?.hasPrefix("doc.json: not valid JSON (") == true)
            #expect(Self.message(#"{"name":"x","sizes":[2]}"#, reader) == nil)
        }
    }
}
