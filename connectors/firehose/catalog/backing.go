package catalog

// BackingStreamPrefix starts the name of every backing stream.
const BackingStreamPrefix = "__firehose__."

// BackingStream is the name of the stream in the embedded stream store that
// holds the records put to the DirectPut delivery stream name, from which the
// delivery runner reads them. The prefix keeps it apart from users' streams
// as far as the store's names allow: stream names have no character a user
// could not also type, so a reserved-looking prefix ("__", which no AWS
// resource convention uses, and a dot) is the best there is; the whole name is
// at most 76 characters, well within the store's 128.
func BackingStream(name string) string { return BackingStreamPrefix + name }
