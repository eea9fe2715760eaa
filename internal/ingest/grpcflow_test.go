package ingest

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestGRPCFlowControl speaks HTTP/2 to the gRPC port frame by frame: the
// server announces the fixed windows, and answers exports without pinging
// the client or updating windows request by request.
func TestGRPCFlowControl(t *testing.T) {
	h := startHarness(t, nil)
	conn, err := net.DialTimeout("tcp", h.svc.GRPCAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	body := mustMarshal(t, logsRequest("flow", "a", "b", "c"))
	var seen flowFrames
	for i := range 4 {
		stream := uint32(2*i + 1)
		writeExport(t, fr, stream, body)
		if status := seen.readUntilEnd(t, fr, stream); status != "0" {
			t.Fatalf("export %d: grpc-status %q", i, status)
		}
	}
	if seen.streamWindow != grpcStreamWindow {
		t.Errorf("SETTINGS_INITIAL_WINDOW_SIZE %d, want %d", seen.streamWindow, grpcStreamWindow)
	}
	if w := 65535 + seen.connUpdate; w != grpcConnWindow {
		t.Errorf("connection window %d, want %d", w, grpcConnWindow)
	}
	if seen.pings != 0 || seen.laterUpdates != 0 {
		t.Errorf("server sent %d pings and %d window updates while answering 4 exports, want none", seen.pings, seen.laterUpdates)
	}
}

// flowFrames is what the server sent that matters to flow control.
type flowFrames struct {
	streamWindow uint32 // from SETTINGS before the first answer
	connUpdate   uint32 // connection window updates before the first answer
	laterUpdates int    // window updates and settings after the first answer
	pings        int    // pings the server started
	answered     bool
}

// readUntilEnd reads frames until stream ends and returns its grpc-status.
func (f *flowFrames) readUntilEnd(t *testing.T, fr *http2.Framer, stream uint32) string {
	t.Helper()
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch fm := frame.(type) {
		case *http2.SettingsFrame:
			if fm.IsAck() {
				break
			}
			if v, ok := fm.Value(http2.SettingInitialWindowSize); ok {
				if f.answered {
					f.laterUpdates++
				} else {
					f.streamWindow = v
				}
			}
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
		case *http2.WindowUpdateFrame:
			if f.answered {
				f.laterUpdates++
			} else if fm.StreamID == 0 {
				f.connUpdate += fm.Increment
			}
		case *http2.PingFrame:
			if !fm.IsAck() {
				f.pings++
				if err := fr.WritePing(true, fm.Data); err != nil {
					t.Fatal(err)
				}
			}
		case *http2.MetaHeadersFrame:
			if fm.StreamID == stream && fm.StreamEnded() {
				f.answered = true
				return trailerStatus(fm)
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY: %v", fm.ErrCode)
		}
	}
}

// trailerStatus is the grpc-status of a trailers frame.
func trailerStatus(fm *http2.MetaHeadersFrame) string {
	for _, hf := range fm.Fields {
		if hf.Name == "grpc-status" {
			return hf.Value
		}
	}
	return ""
}

// writeExport sends one logs Export call with body as its message.
func writeExport(t *testing.T, fr *http2.Framer, stream uint32, body []byte) {
	t.Helper()
	var hdr []byte
	enc := hpack.NewEncoder(&hpackBuf{&hdr})
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":authority", "ingest"},
		{":path", "/opentelemetry.proto.collector.logs.v1.LogsService/Export"},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: hdr, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)))
	if err := fr.WriteData(stream, true, append(msg, body...)); err != nil {
		t.Fatal(err)
	}
}

type hpackBuf struct{ b *[]byte }

func (w *hpackBuf) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
