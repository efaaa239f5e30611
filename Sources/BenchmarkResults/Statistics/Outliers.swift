/// Outlier detection by the modified z-score of Iglewicz and Hoaglin: 0.6745 (x - median) / MAD,
/// flagged beyond 3.5. Robust where the mean and standard deviation are not (a single slow
/// first run inflates both). Flagged samples stay in the data: reports mark them, nothing drops them.
public enum Outliers {
    public static let threshold = 3.5

    /// Indices of the outliers in `values`; none when the MAD is 0 (half or more values equal)
    /// and none below ``Summary/minimumForInference`` values, where the MAD of three values is one
    /// of their two gaps and a Gaussian triple is flagged about once in 3.5 draws.
    public static func modifiedZScore(_ values: [Double]) -> [Int] {
        guard values.count >= Summary.minimumForInference else { return [] }
        let sorted = values.sorted()
        let median = Quantile.of(sorted: sorted, 0.5)
        let mad = Quantile.of(sorted: values.map { abs($0 - median) }.sorted(), 0.5)
        guard mad > 0 else { return [] }
        return values.indices.filter { abs(0.6745 * (values[$0] - median) / mad) > threshold }
    }
}
