/// The Intermodal version, reported by both executables and recorded in every result.
public enum IntermodalVersion {
    public static let string = "0.1.0"
}
