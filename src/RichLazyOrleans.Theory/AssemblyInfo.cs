using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("RichLazyOrleans.Theory.Tests")]
[assembly: InternalsVisibleTo("RichLazyOrleans.Benchmarks")]
