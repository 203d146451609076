package verify

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// sseEvent is one Server-Sent Event (HTML Living Standard §9.2).
type sseEvent struct {
	id   string
	name string
	data []byte
}

// maxSSELine and maxSSEData bound what one event may hold.
const (
	maxSSELine = 64 << 10
	maxSSEData = 256 << 10
)

var errSSETooLong = errors.New("verify: event stream line or event too long")

// readSSE reads events from r until it fails, calling seen after every
// line (keep-alive comments included) and emit for every complete event.
// Lines end in LF or CRLF; a bare CR is not treated as a line end.
func readSSE(r io.Reader, seen func(), emit func(sseEvent) error) error {
	br := bufio.NewReaderSize(r, maxSSELine)
	var ev sseEvent
	var data bytes.Buffer
	hasData := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return errSSETooLong
		}
		if err != nil {
			return err // an unterminated last line is discarded, as the standard says
		}
		seen()
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			if hasData {
				ev.data = bytes.Clone(data.Bytes())
				if err := emit(ev); err != nil {
					return err
				}
			}
			ev.name, ev.data, hasData = "", nil, false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue // a comment: Tollgate's keep-alive
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			if !bytes.ContainsRune(value, 0) {
				ev.id = string(value)
			}
		case "event":
			ev.name = string(value)
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
			if data.Len() > maxSSEData {
				return errSSETooLong
			}
		}
	}
}
