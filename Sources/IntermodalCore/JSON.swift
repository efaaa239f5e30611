import FoundationEssentials

/// JSON in and out for every module: one helper per direction, errors as ``IntermodalError``s
/// that name the document and what was wrong with it (the JSON path of a bad field).
///
/// Writing is Foundation's `JSONEncoder` with keys sorted and slashes unescaped (the OCI specs'
/// habit: what we write, and so its digest, is reproducible). Reading is Foundation's
/// `JSONDecoder` unless the caller names another ``JSONReader``: the runtime's start path reads
/// config.json and state.json with its own (`FastJSON`), which makes no dynamic casts.
public enum JSON {
    /// `pretty` for files people read (records, results, `inspect`); digested documents stay compact.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws(IntermodalError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw IntermodalError(.internalError, "cannot encode \(T.self) as JSON", cause: error)
        }
    }

    /// Decodes `bytes`; `what` names the document in the error (a file's path, "manifest of
    /// busybox"), `code` is the error's code (`.corrupted` for what we wrote ourselves,
    /// `.invalidArgument` for what the user gave us).
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], what: String, code: IntermodalError.Code = .corrupted,
        reader: any JSONReader.Type = FoundationJSONReader.self
    ) throws(IntermodalError) -> T {
        do {
            return try reader.decode(type, from: bytes)
        } catch let error as DecodingError {
            throw IntermodalError(code, "\(what): \(describe(error))")
        } catch {
            throw IntermodalError(code, "\(what): not valid JSON", cause: error)
        }
    }

    /// One line for a decoding error: the JSON path of the field (`linux.namespaces[1].type`)
    /// and what was wrong with it.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            var out = ""
            for key in keys + (last.map { [$0] } ?? []) {
                if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return out.isEmpty ? "(top level)" : out
        }
        switch error {
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(jsonName(type))"
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(jsonName(type)), found null"
        case .keyNotFound(let key, let ctx):
            return "\(path(ctx.codingPath, key)): required field is missing"
        case .dataCorrupted(let ctx):
            // The text is no JSON at all (Foundation says so at the top level, with the reason
            // underneath), or a value is out of range or badly formed (a field's path).
            let detail = ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription
            if ctx.codingPath.isEmpty { return "not valid JSON (\(detail))" }
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)" + (ctx.underlyingError.map { " (\($0))" } ?? "")
        @unknown default:
            return "\(error)"
        }
    }

    private static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is UInt32.Type, is UInt64.Type, is UInt.Type, is UInt16.Type, is UInt8.Type: return "a non-negative integer"
        case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is [String].Type: return "an array of strings"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object (\(name))"
        }
    }
}

/// What turns JSON text into a `Decodable` value for ``JSON/decode(_:from:what:code:reader:)``;
/// errors are `DecodingError`s with the coding path, as `JSONDecoder`'s are.
public protocol JSONReader {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T
}

/// Foundation's `JSONDecoder`: the reader everywhere but the runtime's start path.
public enum FoundationJSONReader: JSONReader {
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
