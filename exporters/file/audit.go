package file

import (
	"errors"
	"fmt"
)

// Auditor records an access before it happens; *audit.Log of package
// privacy/audit implements it. A read through a [ReadConfig] with an
// Auditor appends (Accessor, "read", dir) before listing the directory,
// and does not read if the record cannot be written.
type Auditor interface {
	Append(accessor, action, resource string) error
}

// audit records the read of dir, if c asks for it.
func (c ReadConfig) audit(dir string) error {
	if c.Audit == nil {
		if c.Accessor != "" {
			return errors.New("file: ReadConfig.Accessor: set without ReadConfig.Audit, so the read would go unrecorded")
		}
		return nil
	}
	if c.Accessor == "" {
		return errors.New("file: ReadConfig.Accessor: required with ReadConfig.Audit")
	}
	if err := c.Audit.Append(c.Accessor, "read", dir); err != nil {
		return fmt.Errorf("file: ReadConfig.Audit: %w", err)
	}
	return nil
}
