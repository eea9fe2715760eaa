package cbad

import (
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// compressor measures compressed sizes. Implementations are stateless
// values backed by package-wide pools, so any number of streams may use
// them concurrently.
type compressor interface {
	// size returns the compressed size of data in bytes.
	size(data []byte) int
}

// newCompressor returns the compressor named by Config.Compressor.
func newCompressor(name string) compressor {
	switch name {
	case "gzip":
		return gzipCompressor{}
	case "lz4":
		return lz4Compressor{}
	default:
		return zstdCompressor{}
	}
}

// bufPool holds scratch buffers for compressed output.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

var zstdPool = sync.Pool{New: func() any {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
		zstd.WithLowerEncoderMem(true),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(1<<22),
	)
	if err != nil {
		// The options above are constants that zstd accepts.
		return nil
	}
	return enc
}}

type zstdCompressor struct{}

func (zstdCompressor) size(data []byte) int {
	enc, _ := zstdPool.Get().(*zstd.Encoder)
	if enc == nil {
		return len(data)
	}
	bp := bufPool.Get().(*[]byte)
	out := enc.EncodeAll(data, (*bp)[:0])
	n := len(out)
	*bp = out[:0]
	bufPool.Put(bp)
	zstdPool.Put(enc)
	return n
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

type gzipCompressor struct{}

func (gzipCompressor) size(data []byte) int {
	w := gzipPool.Get().(*gzip.Writer)
	var cw countWriter
	w.Reset(&cw)
	_, err1 := w.Write(data)
	err2 := w.Close()
	gzipPool.Put(w)
	if err1 != nil || err2 != nil {
		return len(data)
	}
	return cw.n
}

var lz4Pool = sync.Pool{New: func() any { return new(lz4.Compressor) }}

type lz4Compressor struct{}

func (lz4Compressor) size(data []byte) int {
	c := lz4Pool.Get().(*lz4.Compressor)
	bp := bufPool.Get().(*[]byte)
	need := lz4.CompressBlockBound(len(data))
	if cap(*bp) < need {
		*bp = make([]byte, need)
	}
	n, err := c.CompressBlock(data, (*bp)[:need])
	bufPool.Put(bp)
	lz4Pool.Put(c)
	if err != nil || n == 0 {
		return len(data)
	}
	return n
}
