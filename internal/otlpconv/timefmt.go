package otlpconv

// appendTime appends the UTC time of ns nanoseconds since the Unix epoch
// in RFC 3339, as time.Time.AppendFormat does with event.NanoLayout
// (fraction without trailing zeros; none when zero) or, when millis is set,
// with event.TimestampLayout (exactly three truncated fraction digits). It
// is several times faster than the time package, which matters at one
// call per record and data point. int64 nanoseconds span the years
// 1677 to 2262, so the year always has four digits; OTLP's uint64
// timestamps beyond 2262 wrap into that range, as time.Unix(0, int64(ns))
// does, which keeps the output deterministic.
func appendTime(dst []byte, ns int64, millis bool) []byte {
	var c timeCache
	return c.appendTime(dst, ns, millis)
}

// timeCache keeps the text of the second it formatted last, up to the
// fraction: the records and points of one request nearly always share it,
// which spares the date arithmetic.
type timeCache struct {
	sec  int64
	text [19]byte // 2006-01-02T15:04:05
	ok   bool
}

// appendTime is appendTime above, through the cache.
func (c *timeCache) appendTime(dst []byte, ns int64, millis bool) []byte {
	secs, frac := ns/1e9, ns%1e9
	if frac < 0 {
		secs, frac = secs-1, frac+1e9
	}
	if !c.ok || secs != c.sec {
		c.set(secs)
	}
	dst = append(dst, c.text[:]...)
	if millis {
		ms := int(frac / 1e6)
		dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	} else if frac != 0 {
		var digits [9]byte
		for i := 8; i >= 0; i-- {
			digits[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 9
		for digits[n-1] == '0' {
			n--
		}
		dst = append(dst, '.')
		dst = append(dst, digits[:n]...)
	}
	return append(dst, 'Z')
}

// appendNanoTime appends ns as a JSON string in event.NanoLayout.
func (c *timeCache) appendNanoTime(dst []byte, ns uint64) []byte {
	dst = append(dst, '"')
	dst = c.appendTime(dst, int64(ns), false)
	return append(dst, '"')
}

// set formats secs, seconds since the Unix epoch, into c.text.
func (c *timeCache) set(secs int64) {
	days, rem := secs/86400, secs%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	y, m, d := civil(days)
	t := c.text[:0]
	t = append4(t, y)
	t = append(t, '-')
	t = append2(t, m)
	t = append(t, '-')
	t = append2(t, d)
	t = append(t, 'T')
	t = append2(t, int(rem/3600))
	t = append(t, ':')
	t = append2(t, int(rem/60%60))
	t = append(t, ':')
	_ = append2(t, int(rem%60)) // the last bytes of c.text
	c.sec, c.ok = secs, true
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
