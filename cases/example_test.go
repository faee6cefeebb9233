package cases_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/cases"
)

func ExampleCalendar_AddWorkingDays() {
	cal := cases.DefaultCalendar(time.UTC)
	opened := time.Date(2022, 12, 30, 0, 0, 0, 0, time.UTC) // a Friday
	due := cal.AddWorkingDays(opened, 1)
	fmt.Println(due.Format("Mon 2 Jan 2006"), cal.WorkingDaysBetween(opened, due))
	name, _ := cal.Holiday(time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC))
	fmt.Println(name)
	// Output:
	// Tue 3 Jan 2023 1
	// New Year’s Day (substitute day)
}

func ExampleStandards_Due() {
	cal := cases.DefaultCalendar(time.UTC)
	c := &cases.Case{Partner: "council", Ref: "ASB-1", VictimKey: strings.Repeat("ab", 16), Risk: cases.RiskStandard,
		OpenedAt: time.Date(2022, 12, 30, 10, 0, 0, 0, time.UTC)}
	for _, it := range cases.DefaultStandards().Due(cal, c, time.Date(2023, 1, 4, 0, 0, 0, 0, time.UTC)) {
		fmt.Println(it.Text)
	}
	// Output:
	// First contact overdue: it was due by Tue 3 Jan 2023 (1 working day after the case was opened)
}

func ExampleReadHolidays() {
	hs, err := cases.ReadHolidays(strings.NewReader("date,name\n2024-12-24,Council closure day\n2024-12-28,Saturday\n"))
	fmt.Println(len(hs), err)
	// Output:
	// 0 holidays: line 3: date: Sat 28 Dec 2024 is a weekend day, never a working day
}
