// Recording measured metrics in a variant directory: evaluation (or `compare`) calls
// `Variant.recordMetrics` with an object of named figures; `variant.json` and the model card are
// rewritten and the whole directory republished atomically with a fresh manifest, so a reader sees
// either the old variant or the new one, never a card that disagrees with its lineage.

extension Variant {
    /// Replaces the metrics of the variant in `directory` with `metrics` (a JSON object, e.g.
    /// `{"loss": 1.91, "kld_mean": 0.001}`) and republishes the directory. Returns the updated variant.
    @discardableResult
    public static func recordMetrics(_ metrics: JSONValue, in directory: String) throws -> Variant {
        guard metrics.isObject else {
            throw WhittleError.config("metrics must be a JSON object of named values, not \(metrics.typeName)",
                                      hint: "this is a bug in the caller: pass an object such as {\"loss\": 1.9}")
        }
        let path = AtomicDirectory.normalized(directory)
        var variant = try load(path)
        variant.metrics = metrics
        var files: [(name: String, bytes: [UInt8])] = []
        for entry in try AtomicDirectory.readManifest(path) {
            switch entry.name {
            case fileName: files.append((fileName, Array(variant.json().utf8)))
            case "README.md": files.append(("README.md", Array(VariantCard.markdown(variant).utf8)))
            default: files.append((entry.name, try FileIO.readFile(path + "/" + entry.name)))
            }
        }
        try AtomicDirectory.publish(files: files, to: path)
        return variant
    }
}
