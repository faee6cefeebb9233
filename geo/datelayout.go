package geo

import "strings"

// DateLayout turns a date pattern as people write it (DD/MM/YYYY HH:mm) into a Go
// time layout. Tokens: YYYY, YY, MMMM (January), MMM (Jan), MM, M, DD, D, HH, hh
// (12-hour), mm, ss, A (AM/PM), Z (offset such as +01:00); anything else is kept
// literally. A pattern that already is a Go layout (it holds 2006) is returned as is.
func DateLayout(pattern string) (string, error) {
	if strings.Contains(pattern, "2006") {
		return pattern, nil
	}
	tokens := []struct{ tok, layout string }{
		{"YYYY", "2006"}, {"YY", "06"}, {"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
		{"DD", "02"}, {"D", "2"}, {"HH", "15"}, {"hh", "03"}, {"mm", "04"}, {"ss", "05"}, {"A", "PM"}, {"Z", "Z07:00"},
	}
	var b strings.Builder
	hasYear := false
	for i := 0; i < len(pattern); {
		matched := false
		for _, t := range tokens {
			if strings.HasPrefix(pattern[i:], t.tok) {
				b.WriteString(t.layout)
				i += len(t.tok)
				matched = true
				hasYear = hasYear || t.tok[0] == 'Y'
				break
			}
		}
		if !matched {
			b.WriteByte(pattern[i])
			i++
		}
	}
	if !hasYear {
		return "", Errorf(EINVALID, "date format %q has no year (YYYY)", pattern)
	}
	return b.String(), nil
}
