import Foundation
import IntermodalCore

/// JSON as the OCI specs want it: stable key order (so digests of what we write are reproducible)
/// and no escaped slashes; decoding errors name the document and the field.
public enum JSON {
    /// `pretty` for files people read (results, configs); digested documents stay compact.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws(IntermodalError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw IntermodalError(.internalError, "cannot encode \(T.self) as JSON", cause: error)
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(IntermodalError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw IntermodalError(.corrupted, "\(what): missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw IntermodalError(.corrupted, "\(what): wrong type for field '\(path(context.codingPath))'")
        } catch let DecodingError.valueNotFound(_, context) {
            throw IntermodalError(.corrupted, "\(what): null for field '\(path(context.codingPath))'")
        } catch {
            throw IntermodalError(.corrupted, "\(what): not valid JSON", cause: error)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
