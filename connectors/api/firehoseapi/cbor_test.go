package firehoseapi

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// TestCBORDescribe checks that a CBOR client gets the same description shape
// as a JSON one, embedded S3 members included.
func TestCBORDescribe(t *testing.T) {
	e := newEnv(t, 0)
	createDirect(t, e, "c")
	body, err := cbor.Marshal(map[string]any{"DeliveryStreamName": "c"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Firehose_20150804.DescribeDeliveryStream")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %x", resp.StatusCode, raw)
	}
	var out struct {
		DeliveryStreamDescription struct {
			DeliveryStreamName string
			Destinations       []struct {
				ExtendedS3DestinationDescription struct {
					BucketARN      string
					S3BackupMode   string
					BufferingHints struct{ SizeInMBs int }
				}
			}
		}
	}
	if err := cbor.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	d := out.DeliveryStreamDescription
	if d.DeliveryStreamName != "c" || len(d.Destinations) != 1 || d.Destinations[0].ExtendedS3DestinationDescription.BucketARN != bucketARN ||
		d.Destinations[0].ExtendedS3DestinationDescription.S3BackupMode != "Disabled" || d.Destinations[0].ExtendedS3DestinationDescription.BufferingHints.SizeInMBs != 5 {
		t.Fatalf("CBOR description %+v", d)
	}
}
