package delivery

// Transformer applies a delivery stream's SQL transform (its
// Destination.SQLTransform, what eddy offers in place of a Lambda processor)
// to a batch of records, one result per record in order. The SQL lives with
// the application wiring; the runner sees only this.
type Transformer interface {
	Apply(records [][]byte) ([]TransformResult, error)
}

// TransformResult is what became of one record.
type TransformResult struct {
	Data    []byte // the record to deliver; nil when dropped or failed
	Dropped bool   // the transform's WHERE filtered it out: delivered nowhere
	Err     string // why the transform failed on it (to the error output), or ""
}

// TransformFailedCode is the error code of records the transform failed on
// (their error output type is processing-failed).
const TransformFailedCode = "Processor.SQLTransformFailed"
