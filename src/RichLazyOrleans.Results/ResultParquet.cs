using System.Reflection;
using System.Text.Json.Serialization;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace RichLazyOrleans.Results;

/// <summary>
/// Result rows to and from Parquet: the fixed columns of <see cref="ResultRow"/> (as its serializer writes them,
/// names and types unchanged) plus one nullable double column per extra name (<see cref="ResultRow.Extra"/>).
/// A file holds the columns it is given even where every row is null, so the files of one sweep share a
/// schema; files of different sweeps may differ in extra columns (readers union them by name).
/// </summary>
public static class ResultParquet
{
    /// <summary>The fixed columns: the schema ParquetSerializer derives from ResultRow, with each field's property.
    /// </summary>
    private static readonly (DataField Field, PropertyInfo Property)[] Fixed = FixedColumns();

    /// <summary>Names of the fixed columns, in file order.</summary>
    public static IReadOnlyList<string> FixedNames { get; } = Fixed.Select(c => c.Field.Name).ToArray();

    private static (DataField, PropertyInfo)[] FixedColumns()
    {
        var byName = typeof(ResultRow).GetProperties()
            .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null)
            .ToDictionary(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name);
        return typeof(ResultRow).GetParquetSchema(forWriting: true).GetDataFields()
            .Select(f => (f, byName[f.Name])).ToArray();
    }

    /// <summary>The schema of a file with these extra columns (names that are fixed columns are left out).</summary>
    public static ParquetSchema Schema(IEnumerable<string> extras) =>
        new(Fixed.Select(c => (Field)c.Field).Concat(ExtraNames(extras).Select(n => new DataField<double?>(n)))
            .ToArray());

    /// <summary>Extra column names: sorted, without duplicates or fixed names.</summary>
    public static IReadOnlyList<string> ExtraNames(IEnumerable<string> names) =>
        names.Distinct(StringComparer.Ordinal).Where(n => !FixedNames.Contains(n)).Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// Writes <paramref name="rows"/> (as one row group, appended when <paramref name="append"/>) with the fixed
    /// columns, <paramref name="extras"/> and every extra name the rows carry.
    /// </summary>
    public static async Task WriteAsync(Stream stream, IReadOnlyList<ResultRow> rows, IEnumerable<string> extras,
        bool append = false, CancellationToken ct = default)
    {
        var names = ExtraNames(extras.Concat(rows.SelectMany(r => r.Extra?.Keys ?? Enumerable.Empty<string>())));
        await WriteAsync(stream, rows, Schema(names), append, ct);
    }

    /// <summary>Writes rows with exactly this schema (the fixed columns and nullable double extras).</summary>
    public static async Task WriteAsync(Stream stream, IReadOnlyList<ResultRow> rows, ParquetSchema schema,
        bool append, CancellationToken ct)
    {
        var extraNames = schema.GetDataFields().Select(f => f.Name).Where(n => !FixedNames.Contains(n)).ToArray();
        var extraSet = extraNames.ToHashSet(StringComparer.Ordinal);
        foreach (var r in rows)
            if (r.Extra?.Keys.FirstOrDefault(k => !extraSet.Contains(k)) is { } missing)
                throw new ArgumentException($"row {r.RunId} step {r.Step} has column '{missing}' the schema lacks");
        var data = rows.Select(r =>
        {
            IDictionary<string, object?> d = new Dictionary<string, object?>(Fixed.Length + extraNames.Length);
            // Fields derived from the class are looked up by their property name (ClrPropName), not column name.
            foreach (var (field, property) in Fixed) d[property.Name] = property.GetValue(r);
            foreach (var name in extraNames) d[name] = r.Extra?.GetValueOrDefault(name);
            return d;
        }).ToList();
        await ParquetSerializer.SerializeUntypedAsync(data, schema, stream, new ParquetOptions { Append = append },
            cancellationToken: ct);
    }

    /// <summary>
    /// Every row of a result file: fixed columns by name (a file written before a column existed leaves it at its
    /// default), every other numeric column into <see cref="ResultRow.Extra"/>.
    /// </summary>
    public static async Task<List<ResultRow>> ReadAsync(Stream stream, CancellationToken ct = default)
    {
        var result = await ParquetSerializer.DeserializeUntypedAsync(stream, cancellationToken: ct);
        var fixedByName = Fixed.ToDictionary(c => c.Field.Name, c => c.Property);
        var rows = new List<ResultRow>(result.Data.Count);
        foreach (var d in result.Data)
        {
            var row = new ResultRow();
            foreach (var (name, value) in d)
            {
                if (fixedByName.TryGetValue(name, out var property)) property.SetValue(row, Convert(value, property));
                else if (value is null or double or float or long or int) row.SetColumn(name, ToDouble(value));
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The columns of a file, read from its footer.</summary>
    public static async Task<ParquetSchema> ReadSchemaAsync(string path, CancellationToken ct = default)
    {
        await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: ct);
        return reader.Schema;
    }

    private static double? ToDouble(object? v) => v switch
    {
        null => null,
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        _ => null,
    };

    private static object? Convert(object? value, PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (value is null) return property.PropertyType == typeof(string) ? "" : null;
        return value.GetType() == type ? value : System.Convert.ChangeType(value, type,
            System.Globalization.CultureInfo.InvariantCulture);
    }
}
