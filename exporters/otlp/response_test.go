package otlp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func marshal(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestParseResponse(t *testing.T) {
	ps := func(n int64, msg string) []byte {
		return marshal(t, &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{
			RejectedLogRecords: n, ErrorMessage: msg}})
	}
	// Hand-built inputs the official marshaler never produces.
	unknownFirst := protowire.AppendTag(nil, 7, protowire.Fixed32Type)
	unknownFirst = protowire.AppendFixed32(unknownFirst, 9)
	unknownFirst = append(unknownFirst, ps(4, "x")...)
	group := protowire.AppendTag(nil, 9, protowire.StartGroupType)
	group = protowire.AppendTag(group, 1, protowire.VarintType)
	group = protowire.AppendVarint(group, 5)
	group = protowire.AppendTag(group, 9, protowire.EndGroupType)
	group = append(group, ps(2, "")...)
	wrongType := protowire.AppendTag(nil, 1, protowire.VarintType) // partial_success as a varint: unknown
	wrongType = protowire.AppendVarint(wrongType, 3)
	badUTF8 := protowire.AppendTag(nil, 1, protowire.VarintType)
	badUTF8 = protowire.AppendVarint(badUTF8, 1)
	badUTF8 = protowire.AppendTag(badUTF8, 2, protowire.BytesType)
	badUTF8 = protowire.AppendString(badUTF8, "a\xffb")
	badUTF8 = protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), badUTF8)
	for _, tt := range []struct {
		name     string
		in       []byte
		rejected int64
		msg      string
		wantErr  string
	}{
		{"empty response", nil, 0, "", ""},
		{"empty partial success", marshal(t, &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{}}), 0, "", ""},
		{"rejected with message", ps(3, "attribute too long"), 3, "attribute too long", ""},
		{"warning only", ps(0, "slow down"), 0, "slow down", ""},
		{"merged occurrences", append(ps(3, "a"), ps(0, "b")...), 3, "b", ""},
		{"unknown fields skipped", unknownFirst, 4, "x", ""},
		{"groups skipped", group, 2, "", ""},
		{"known field of another wire type is unknown", wrongType, 0, "", ""},
		{"invalid UTF-8 replaced", badUTF8, 1, "a\uFFFDb", ""},
		{"truncated length", ps(3, "attribute too long")[:5], 0, "", "truncated"},
		{"field zero", []byte{0x00}, 0, "", "invalid field number 0"},
		{"end group without start", []byte{0x0c}, 0, "", "unexpected wire type 4"},
		{"overlong varint", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, "", "varint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rejected, msg, err := parseResponse(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.ErrorContains(t, err, "otlp: ExportLogsServiceResponse")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rejected, rejected)
			assert.Equal(t, tt.msg, msg)
		})
	}
}

func TestParseStatus(t *testing.T) {
	detail, err := anypb.New(&collogspb.ExportLogsPartialSuccess{RejectedLogRecords: 1})
	require.NoError(t, err)
	b := marshal(t, &spb.Status{Code: 3, Message: "bad request: missing resource", Details: []*anypb.Any{detail}})
	code, msg, err := parseStatus(b)
	require.NoError(t, err)
	assert.Equal(t, int32(3), code)
	assert.Equal(t, "bad request: missing resource", msg)
	_, _, err = parseStatus(b[:len(b)-2])
	require.ErrorContains(t, err, "otlp: google.rpc.Status")
}

// fuzzSeeds are valid and broken encodings of both messages.
func fuzzSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add(marshal(f, &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: 7, ErrorMessage: "too big"}}))
	f.Add(marshal(f, &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: -1}}))
	f.Add(marshal(f, &spb.Status{Code: 14, Message: "unavailable"}))
	f.Add([]byte{0x0b, 0x08, 0x01, 0x0c, 0x0a, 0x02, 0x08, 0x05})
	f.Add([]byte{0x0a, 0x80})
	f.Add([]byte{0x0a, 0x05, 0x12, 0x03, 'a', 0xff, 'b'})
}

// FuzzParseResponse: the hand-written parser never panics, and whenever
// the official protobuf decoder accepts the input, it returns the same
// values.
func FuzzParseResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rejected, msg, err := parseResponse(b)
		var ref collogspb.ExportLogsServiceResponse
		if proto.Unmarshal(b, &ref) != nil {
			return // e.g. invalid UTF-8, which the parser replaces instead
		}
		require.NoError(t, err)
		assert.Equal(t, ref.GetPartialSuccess().GetRejectedLogRecords(), rejected)
		assert.Equal(t, ref.GetPartialSuccess().GetErrorMessage(), msg)
	})
}

// FuzzParseStatus: as FuzzParseResponse, for google.rpc.Status.
func FuzzParseStatus(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		code, msg, err := parseStatus(b)
		var ref spb.Status
		if proto.Unmarshal(b, &ref) != nil {
			return
		}
		require.NoError(t, err)
		assert.Equal(t, ref.GetCode(), code)
		assert.Equal(t, ref.GetMessage(), msg)
	})
}
