import NIOHTTP1
import StreamGateConfig
import StreamGateProxy

/// The answer to `POST /reload`: 200 with the generation now serving, or 422 with every error (file, line, key,
/// message, and the line as the log prints it), the old configuration still serving.
enum ReloadJSON {
    static func render(_ outcome: ConfigReloader.Outcome) -> (HTTPResponseStatus, [UInt8]) {
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        switch outcome {
        case .applied(let generation, let restartRequired):
            json.key("result"); json.string("applied")
            json.key("generation"); json.int(generation.number)
            json.key("loaded_at"); json.string(LogTimestamp.rfc3339(generation.loadedAt))
            json.key("restart_required")
            json.beginArray()
            for section in restartRequired {
                json.string(section)
            }
            json.endArray()
            json.endObject()
            return (.ok, json.bytes)
        case .failed(let errors):
            json.key("result"); json.string("failed")
            json.key("errors")
            json.beginArray()
            for error in errors {
                json.beginObject()
                json.key("file"); json.string(error.file)
                json.key("line"); json.int(error.line)
                json.key("key"); json.string(error.keyPath)
                json.key("message"); json.string(error.message)
                json.key("text"); json.string(error.description)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return (.unprocessableEntity, json.bytes)
        }
    }
}
