import FoundationEssentials
import IntermodalCore

/// JSON coding with errors that name the file.
enum JSON {
    static func encode<T: Encodable>(_ value: T) throws(IntermodalError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch {
            throw IntermodalError(.internalError, "cannot encode \(T.self)", cause: error)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(IntermodalError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw IntermodalError(.corrupted, "cannot parse \(what)", cause: error)
        }
    }
}
