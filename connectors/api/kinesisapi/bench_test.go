package kinesisapi

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/connectors/api/internal/apitest"
)

// BenchmarkPutRecords puts batches of 500 records of 200 bytes over loopback
// HTTP with aws-sdk-go-v2 clients into a stream of 8 shards.
func BenchmarkPutRecords(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, Options{})
			createStream(b, e, "bench", 8)
			batch := make([]types.PutRecordsRequestEntry, 500)
			data := make([]byte, 200)
			for i := range batch {
				batch[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: data}
			}
			cs := make([]*kinesis.Client, clients)
			for i := range cs {
				cs[i] = kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
					Credentials: e.client.Options().Credentials, Retryer: apitest.ClosedConnRetryer(),
					HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}})
			}
			b.SetBytes(500 * 200)
			b.ReportAllocs()
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			next := 0
			for _, c := range cs {
				wg.Go(func() {
					for {
						mu.Lock()
						if next >= b.N {
							mu.Unlock()
							return
						}
						next++
						mu.Unlock()
						out, err := c.PutRecords(apitest.Ctx(b), &kinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: batch})
						if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*500)/time.Since(start).Seconds(), "records/s")
			for _, c := range cs {
				c.Options().HTTPClient.(*http.Client).CloseIdleConnections()
			}
		})
	}
}

// BenchmarkGetRecords reads 10,000-record pages of 200-byte records over loopback HTTP.
func BenchmarkGetRecords(b *testing.B) {
	e := newEnv(b, Options{})
	createStream(b, e, "bench", 1)
	batch := make([]types.PutRecordsRequestEntry, 500)
	for i := range batch {
		batch[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: make([]byte, 200)}
	}
	for range 20 {
		apitest.Must[*kinesis.PutRecordsOutput](b)(e.client.PutRecords(apitest.Ctx(b), &kinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: batch}))
	}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		it := iter(b, e, "bench", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "", nil)
		out := apitest.Must[*kinesis.GetRecordsOutput](b)(e.client.GetRecords(apitest.Ctx(b), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)}))
		n += len(out.Records)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
}
