package contract

import (
	"net/netip"
	"net/url"
	"strings"
)

// formats prove the formats the general validator asserts. Each accepts
// only strings that santhosh-tekuri/jsonschema accepts too (some are
// stricter: a quoted email local part, a leap second or "+1" as a number
// are left to it), without allocating except uri.
var formats = map[string]func(string) bool{
	"email":     email,
	"hostname":  hostname,
	"ipv4":      ipv4,
	"ipv6":      ipv6,
	"uuid":      uuid,
	"date":      date,
	"time":      timeOfDay,
	"date-time": dateTime,
	"uri":       uri,
}

// unprovable are the other formats the general validator asserts: a
// schema naming one is undecided. Formats it does not know, it ignores.
var unprovable = map[string]bool{
	"json-pointer": true, "relative-json-pointer": true, "duration": true,
	"period": true, "iri": true, "uri-reference": true, "iri-reference": true,
	"uri-template": true, "semver": true, "regex": true,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func uuid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// ipv4 is four decimals from 0 to 255 without leading zeros.
func ipv4(s string) bool {
	for g := range 4 {
		n, v := 0, 0
		for n < len(s) && n < 4 && isDigit(s[n]) {
			v = v*10 + int(s[n]-'0')
			n++
		}
		if n == 0 || n > 3 || n > 1 && s[0] == '0' || v > 255 {
			return false
		}
		s = s[n:]
		if g == 3 {
			break
		}
		if len(s) == 0 || s[0] != '.' {
			return false
		}
		s = s[1:]
	}
	return len(s) == 0
}

func ipv6(s string) bool {
	if strings.IndexByte(s, ':') < 0 {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

func hostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) > 253 {
		return false
	}
	for {
		end := strings.IndexByte(s, '.')
		label := s
		if end >= 0 {
			label = s[:end]
		}
		if len(label) < 1 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !hostChar[label[i]] {
				return false
			}
		}
		if end < 0 {
			return true
		}
		s = s[end+1:]
	}
}

const emailLocalPunct = ".!#$%&'*+-/=?^_`{|}~"

// hostChar and localChar are the bytes of a hostname's labels and of an
// unquoted email local part.
var hostChar, localChar = func() (host, local [256]bool) {
	for c := range 256 {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		host[c] = alnum || c == '-'
		local[c] = alnum || strings.IndexByte(emailLocalPunct, byte(c)) >= 0
	}
	return
}()

func email(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if len(local) == 0 || len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' ||
		local[0] == '"' || strings.Contains(local, "..") {
		return false // a quoted local part is left to the general validator
	}
	for i := 0; i < len(local); i++ {
		if !localChar[local[i]] {
			return false
		}
	}
	if len(domain) > 1 && domain[0] == '[' && domain[len(domain)-1] == ']' {
		ip := domain[1 : len(domain)-1]
		if rest, ok := strings.CutPrefix(ip, "IPv6:"); ok {
			return ipv6(rest)
		}
		return ipv4(ip)
	}
	return hostname(domain)
}

// num reads a fixed number of digits.
func num(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// date is YYYY-MM-DD, a day that exists.
func date(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// timeOfDay is hh:mm:ss, an optional fraction, and Z or an offset; leap
// seconds are left to the general validator.
func timeOfDay(s string) bool {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, ok1 := num(s[:2])
	m, ok2 := num(s[3:5])
	sec, ok3 := num(s[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return false
	}
	s = s[8:]
	if len(s) > 0 && s[0] == '.' {
		n := 1
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 1 {
			return false
		}
		s = s[n:]
	}
	if len(s) == 1 && (s[0] == 'Z' || s[0] == 'z') {
		return true
	}
	if len(s) != 6 || s[0] != '+' && s[0] != '-' || s[3] != ':' {
		return false
	}
	zh, ok1 := num(s[1:3])
	zm, ok2 := num(s[4:])
	return ok1 && ok2 && zh <= 23 && zm <= 59
}

func dateTime(s string) bool {
	return len(s) >= 20 && (s[10] == 'T' || s[10] == 't') && date(s[:10]) && timeOfDay(s[11:])
}

// uri is an absolute URL as net/url parses it, an IPv6 host in brackets.
func uri(s string) bool {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return false
	}
	if h := u.Hostname(); strings.Contains(h, ":") {
		return strings.Contains(u.Host, "[") && strings.Contains(u.Host, "]") && ipv6(h)
	}
	return true
}
