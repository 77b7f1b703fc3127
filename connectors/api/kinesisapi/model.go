package kinesisapi

//go:generate go run ../internal/gen -shapes model_gen.go -package kinesisapi -func newModel ../../../../shared/aws-models/kinesis-2013-12-02.json
