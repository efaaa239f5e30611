import IntermodalCore
import Testing

/// A small document with a nested object, a list and an optional: enough for every kind of error.
struct JSONTestDocument: Codable, Equatable {
    struct Inner: Codable, Equatable { var flag: Bool }
    var name: String
    var sizes: [Int]
    var inner: Inner?
}

@Suite("JSON: one helper per direction")
struct JSONTests {
    @Test("encode sorts keys and leaves slashes alone; decode reads it back")
    func roundTrip() throws {
        let doc = JSONTestDocument(name: "a/b", sizes: [1, 2], inner: .init(flag: true))
        let bytes = try JSON.encode(doc)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"inner":{"flag":true},"name":"a/b","sizes":[1,2]}"#)
        #expect(try JSON.decode(JSONTestDocument.self, from: bytes, what: "doc.json") == doc)
        #expect(String(decoding: try JSON.encode(doc, pretty: true), as: UTF8.self).contains("\n"))
    }

    @Test("a decoding error names the document and the field's path, with the code asked for")
    func errorsNameDocumentAndField() {
        let cases: [(String, String)] = [
            (#"{"name":"x","sizes":[1,"two"]}"#, "doc.json: sizes[1]: expected an integer"),
            (#"{"sizes":[]}"#, "doc.json: name: required field is missing"),
            (#"{"name":"x","sizes":[],"inner":{"flag":null}}"#, "doc.json: inner.flag: expected a boolean"),
            (#"{"name":"#, "doc.json: not valid JSON"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: IntermodalError.self) {
                try JSON.decode(JSONTestDocument.self, from: Array(text.utf8), what: "doc.json", code: .invalidArgument)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
        }
        let defaultCode = #expect(throws: IntermodalError.self) { try JSON.decode([Int].self, from: Array("{}".utf8), what: "x") }
        #expect(defaultCode?.code == .corrupted)
    }
}
