package webhdfs

import (
	"context"
	"errors"
	"io/fs"
)

// Namesystem is the namespace the WebHDFS handler serves; the HA NameNode
// implements it, and tests use an in-memory fake. Every call names the user
// it runs as (user.name), whom the NameNode's permission checker checks.
type Namesystem interface {
	Mkdirs(ctx context.Context, path string, perm fs.FileMode, user string) error
	Create(ctx context.Context, path string, data []byte, overwrite bool, perm fs.FileMode, replication int16, blockSize int64, user string) error
	Append(ctx context.Context, path string, data []byte, user string) error
	Open(ctx context.Context, path string, offset, length int64, user string) ([]byte, error)
	GetFileStatus(ctx context.Context, path, user string) (FileStatus, error)
	ListStatus(ctx context.Context, path, user string) ([]FileStatus, error)
	Delete(ctx context.Context, path string, recursive bool, user string) (bool, error)
	Rename(ctx context.Context, src, dst, user string) (bool, error)
	SetPermission(ctx context.Context, path string, perm fs.FileMode, user string) error
	SetOwner(ctx context.Context, path, owner, group, user string) error
	GetContentSummary(ctx context.Context, path, user string) (ContentSummary, error)
	// SetReplication sets a file's replication; false (and no change) for
	// a directory or a missing path, as Hadoop's setReplication.
	SetReplication(ctx context.Context, path string, replication int16, user string) (bool, error)
	// SetTimes sets the modification and access times (ms since the
	// epoch); -1 leaves one as it is.
	SetTimes(ctx context.Context, path string, mtime, atime int64, user string) error
	// Truncate cuts a file to newLength bytes; true when it is done at
	// once (always here: the data is inline, no block recovery is needed).
	Truncate(ctx context.Context, path string, newLength int64, user string) (bool, error)
	// Concat appends the sources' contents to target, in order, and
	// removes the sources.
	Concat(ctx context.Context, target string, srcs []string, user string) error
}

// File types as WebHDFS spells them in FileStatus.Type.
const (
	TypeFile      = "FILE"
	TypeDirectory = "DIRECTORY"
)

// FileStatus is WebHDFS's FileStatus JSON object.
type FileStatus struct {
	PathSuffix       string `json:"pathSuffix"`
	Type             string `json:"type"` // TypeFile or TypeDirectory
	Length           int64  `json:"length"`
	Owner            string `json:"owner"`
	Group            string `json:"group"`
	Permission       string `json:"permission"`       // octal, e.g. "755"
	AccessTime       int64  `json:"accessTime"`       // ms since epoch
	ModificationTime int64  `json:"modificationTime"` // ms since epoch
	BlockSize        int64  `json:"blockSize"`
	Replication      int16  `json:"replication"`
	ChildrenNum      int    `json:"childrenNum"`
	FileID           int64  `json:"fileId"`
}

// ContentSummary is WebHDFS's ContentSummary JSON object.
type ContentSummary struct {
	Length         int64 `json:"length"`
	FileCount      int64 `json:"fileCount"`
	DirectoryCount int64 `json:"directoryCount"`
	Quota          int64 `json:"quota"`
	SpaceConsumed  int64 `json:"spaceConsumed"`
	SpaceQuota     int64 `json:"spaceQuota"`
}

// Sentinel errors a Namesystem returns, wrapped with the path as
// fmt.Errorf("%w: %s", ErrNotFound, path); the handler maps each to the Hadoop
// exception and HTTP status a WebHDFS client expects, and their texts are
// Hadoop's so the message reads as Hadoop's ("File does not exist: /a").
var (
	ErrNotFound     = errors.New("File does not exist")                                                                               // FileNotFoundException, 404
	ErrExists       = errors.New("File already exists")                                                                               // FileAlreadyExistsException, 403
	ErrStandby      = errors.New("Operation category WRITE is not supported in state standby. Visit https://s.apache.org/sbnn-error") // StandbyException, 403; see StandbyError
	ErrNotEmpty     = errors.New("Directory is not empty")                                                                            // PathIsNotEmptyDirectoryException, 403
	ErrInvalidPath  = errors.New("Invalid path name")                                                                                 // InvalidPathException, 400
	ErrParentNotDir = errors.New("Parent path is not a directory")                                                                    // ParentNotDirectoryException, 403
	ErrTooLarge     = errors.New("File too large")                                                                                    // IOException, 403
	ErrPermission   = errors.New("Permission denied")                                                                                 // AccessControlException, 403
	// ErrIOException is a request Hadoop refuses with a plain IOException
	// (403), such as an OPEN offset past the end of the file; only the text
	// after it is the message.
	ErrIOException = errors.New("IOException")
	// ErrRetriable is Hadoop's RetriableException (403): the call cannot
	// run now but will soon, on this same NameNode — an HA active NameNode
	// in start-up safe mode answers it, and clients retry after a backoff
	// instead of failing. It wraps the cause (a SafeModeException).
	ErrRetriable = errors.New("RetriableException")
)
