package firehoseapi

//go:generate go run ../internal/gen -shapes model_gen.go -package firehoseapi -func newModel ../../../../shared/aws-models/firehose-2015-08-04.json
