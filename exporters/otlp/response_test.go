package otlp

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
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
	st, err := parseStatus(b)
	require.NoError(t, err)
	assert.Equal(t, rpcStatus{code: 3, msg: "bad request: missing resource"}, st)
	_, err = parseStatus(b[:len(b)-2])
	require.ErrorContains(t, err, "otlp: google.rpc.Status")

	t.Run("RetryInfo", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			d    *durationpb.Duration
			want time.Duration
		}{
			{"1.5s", &durationpb.Duration{Seconds: 1, Nanos: 5e8}, 1500 * time.Millisecond},
			{"zero", &durationpb.Duration{}, 0},
			{"negative is no wait", &durationpb.Duration{Seconds: -3}, 0},
			{"saturates", &durationpb.Duration{Seconds: 1 << 62}, time.Duration(math.MaxInt64)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ri, err := anypb.New(&errdetails.RetryInfo{RetryDelay: tt.d})
				require.NoError(t, err)
				st, err := parseStatus(marshal(t, &spb.Status{Code: 8, Message: "slow down", Details: []*anypb.Any{detail, ri}}))
				require.NoError(t, err)
				assert.Equal(t, rpcStatus{code: 8, msg: "slow down", retryInfo: true, retryDelay: tt.want}, st)
			})
		}
		bad := &anypb.Any{TypeUrl: retryInfoType, Value: []byte{0x0a, 0x05}}
		_, err := parseStatus(marshal(t, &spb.Status{Code: 8, Details: []*anypb.Any{bad}}))
		require.ErrorContains(t, err, "otlp: google.rpc.Status: truncated")
	})
}

func TestGRPCMessage(t *testing.T) {
	for _, tt := range []struct {
		name       string
		in         []byte
		msg        string
		compressed bool
		wantErr    string
	}{
		{"empty body", nil, "", false, ""},
		{"one frame", []byte{0, 0, 0, 0, 2, 'h', 'i'}, "hi", false, ""},
		{"compressed", []byte{1, 0, 0, 0, 1, 'z'}, "z", true, ""},
		{"empty message", []byte{0, 0, 0, 0, 0}, "", false, ""},
		{"short header", []byte{0, 0, 0}, "", false, "truncated frame header"},
		{"bad flag", []byte{2, 0, 0, 0, 0}, "", false, "bad compressed flag 2"},
		{"length past the end", []byte{0, 0, 0, 0, 9, 'x'}, "", false, "frame of 9 bytes in a body of 1"},
		{"two frames", []byte{0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'}, "", false, "frame of 1 bytes in a body of 7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg, compressed, err := grpcMessage(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.msg, string(msg))
			assert.Equal(t, tt.compressed, compressed)
		})
	}
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
	ri, _ := anypb.New(&errdetails.RetryInfo{RetryDelay: &durationpb.Duration{Seconds: 2, Nanos: 7}})
	f.Add(marshal(f, &spb.Status{Code: 8, Message: "slow", Details: []*anypb.Any{ri}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStatus(b)
		var ref spb.Status
		if proto.Unmarshal(b, &ref) != nil {
			return
		}
		// The reference reading of RetryInfo: the last detail of its type.
		var want rpcStatus
		for _, d := range ref.GetDetails() {
			if d.GetTypeUrl() != retryInfoType {
				continue
			}
			var info errdetails.RetryInfo
			if proto.Unmarshal(d.GetValue(), &info) != nil {
				return // the parser refuses it too, or skips what it need not read
			}
			want.retryInfo, want.retryDelay = true, max(info.GetRetryDelay().AsDuration(), 0)
		}
		require.NoError(t, err)
		assert.Equal(t, ref.GetCode(), st.code)
		assert.Equal(t, ref.GetMessage(), st.msg)
		assert.Equal(t, want.retryInfo, st.retryInfo)
		assert.Equal(t, want.retryDelay, st.retryDelay)
	})
}

// FuzzGRPCMessage: the frame parser never panics and, when it accepts a
// body, the message is exactly what follows the 5-byte header.
func FuzzGRPCMessage(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 2, 'h', 'i'})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, compressed, err := grpcMessage(b)
		if err != nil || len(b) == 0 {
			return
		}
		require.Equal(t, b[5:], msg)
		require.Equal(t, b[0] == 1, compressed)
		require.Equal(t, uint32(len(b)-5), binary.BigEndian.Uint32(b[1:5]))
	})
}
