package jsonschema

import "regexp"

// formats are the supported "format" values, asserted (not just
// annotated) by this validator.
var formats = map[string]func(string) bool{
	"date-time": isDateTime,
	"uuid":      isUUID,
}

var dateTimeRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$`)

// isDateTime checks RFC 3339 section 5.6 date-time, including day of month
// against month and leap year, and allowing a leap second (60).
func isDateTime(s string) bool {
	m := dateTimeRE.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	n := func(i int) int {
		v := 0
		for _, c := range m[i] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := n(1), n(2), n(3)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return false
	}
	if n(4) > 23 || n(5) > 59 || n(6) > 60 {
		return false
	}
	if m[9] != "" && (n(10) > 23 || n(11) > 59) {
		return false
	}
	return true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isUUID checks the hyphenated RFC 9562 string form.
func isUUID(s string) bool { return uuidRE.MatchString(s) }
