// Added to FerretDB v1.24.2 by support-gateway's scripts/ensure-ferretdb.sh.

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// prepareIDWhereClause narrows a query to the documents whose _id the filter names, `{_id: v}` or
// `{_id: {$in: [v, ...]}}` with string or ObjectID values, whatever other conditions the filter has.
// Every caller applies the whole filter to the rows afterwards, so this only has to keep every match.
func prepareIDWhereClause(filter *types.Document) (string, []any) {
	if filter == nil {
		return "", nil
	}

	v, err := filter.Get("_id")
	if err != nil {
		return "", nil
	}

	switch v := v.(type) {
	case string, types.ObjectID:
		return fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn), []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}

	case *types.Document:
		if v.Len() != 1 {
			return "", nil
		}

		in, err := v.Get("$in")
		if err != nil {
			return "", nil
		}

		values, ok := in.(*types.Array)
		if !ok || values.Len() == 0 {
			return "", nil
		}

		placeholders := make([]string, values.Len())
		args := make([]any, values.Len())

		for i := 0; i < values.Len(); i++ {
			value := must.NotFail(values.Get(i))

			switch value.(type) {
			case string, types.ObjectID:
			default:
				return "", nil
			}

			placeholders[i] = "?"
			args[i] = string(must.NotFail(sjson.MarshalSingleValue(value)))
		}

		return fmt.Sprintf(` WHERE %s IN (%s)`, metadata.IDColumn, strings.Join(placeholders, ", ")), args
	}

	return "", nil
}
