/* The CSV reader: format details (quotes, CRLF, comments, delimiters), target selection and
   classes, and every error with its line, column and reason. */
#include <criterion/criterion.h>
#include <string.h>

#include "io_common.h"

static nb_status rd(const char *text, const nb_csv_opts *o, nb_dataset *d, nb_io_error *e)
{
    memset(e, 0, sizeof *e);
    return nb_csv_read_mem(d, text, strlen(text), o, e);
}

/* Expects a parse error at line/column whose message contains `why`. */
static void expect_error(const char *text, const nb_csv_opts *o, nb_status want, size_t line,
                         size_t col, const char *why)
{
    nb_dataset d;
    memset(&d, 0xcd, sizeof d);
    nb_dataset before = d;
    nb_io_error e;
    nb_status st = rd(text, o, &d, &e);
    cr_assert_eq(st, want, "'%s': %s (%s)", text, nb_status_str(st), e.message);
    cr_assert_eq(e.line, line, "'%s': line %zu (%s)", text, e.line, e.message);
    cr_assert_eq(e.column, col, "'%s': column %zu (%s)", text, e.column, e.message);
    cr_assert_not_null(strstr(e.message, why), "'%s': message '%s'", text, e.message);
    cr_assert_eq(memcmp(&d, &before, sizeof d), 0, "output touched");
}

Test(csv, target_column_names_in_the_order_asked)
{
    nb_csv_opts o = nb_csv_opts_default();
    o.target_columns = "z,0";
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(rd("a,b,z\n1,2,3\n", &o, &d, &e), NB_OK, "%s", e.message);
    cr_assert_eq(d.n_target_names, 2);
    cr_assert_str_eq(d.target_names[0], "z");
    cr_assert_str_eq(d.target_names[1], "a");
    cr_assert_eq(d.n_features, 1);
    cr_assert_str_eq(d.feature_names[0], "b");
    nb_dataset_free(&d);
}

Test(csv, plain_table_with_header)
{
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(rd("a,b,c\n1,2,3\n4.5,-6e1,7\n", NULL, &d, &e), NB_OK);
    cr_assert(d.X.rows == 2 && d.X.cols == 3 && d.T.data == NULL && d.n_classes == 0);
    const float want[] = {1, 2, 3, 4.5f, -60, 7};
    cr_assert_arr_eq(d.X.data, want, sizeof want);
    cr_assert_str_eq(d.feature_names[2], "c");
    cr_assert(d.n_target_names == 0 && d.target_names == NULL);
    nb_dataset_free(&d);
    nb_dataset_free(&d); /* safe twice */
    nb_dataset_free(NULL);
}

Test(csv, quoted_fields_crlf_comments_and_blank_lines)
{
    const char *text = "\xEF\xBB\xBF# a comment\r\n\"x, the first\",\"y \"\"2\"\"\",label\r\n"
                       "\r\n  # indented comment\r\n"
                       " \"1.5\" , 2 ,\"a,b\"\r\n\t\r\n3,4,\"multi\nline\"\r\n5,6,a\r\n";
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "label";
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(rd(text, &o, &d, &e), NB_OK, "%s", e.message);
    cr_assert_eq(d.X.rows, 3);
    cr_assert_str_eq(d.feature_names[0], "x, the first");
    cr_assert_str_eq(d.feature_names[1], "y \"2\"");
    cr_assert_eq(d.n_target_names, 1); /* the label column's name */
    cr_assert_str_eq(d.target_names[0], "label");
    cr_assert_eq(d.n_classes, 3);
    cr_assert_str_eq(d.class_names[0], "a");
    cr_assert_str_eq(d.class_names[1], "a,b");
    cr_assert_str_eq(d.class_names[2], "multi\nline");
    const float X[] = {1.5f, 2, 3, 4, 5, 6};
    const float T[] = {0, 1, 0, 0, 0, 1, 1, 0, 0};
    cr_assert_arr_eq(d.X.data, X, sizeof X);
    cr_assert_arr_eq(d.T.data, T, sizeof T);
    nb_dataset_free(&d);
}

Test(csv, no_header_other_delimiter_index_columns)
{
    nb_csv_opts o = nb_csv_opts_default();
    o.header = false;
    o.delimiter = ';';
    o.target_columns = "-1,0";
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(rd("1;2;3;4\n5;6;7;8", &o, &d, &e), NB_OK, "%s", e.message); /* no final LF */
    cr_assert(d.X.cols == 2 && d.T.cols == 2 && d.X.rows == 2);
    const float X[] = {2, 3, 6, 7}, T[] = {4, 1, 8, 5};
    cr_assert_arr_eq(d.X.data, X, sizeof X);
    cr_assert_arr_eq(d.T.data, T, sizeof T);
    cr_assert_null(d.feature_names);
    cr_assert(d.n_target_names == 0 && d.target_names == NULL); /* no header: no names */
    nb_dataset_free(&d);
    o.delimiter = '\t';
    o.target_columns = NULL;
    o.label_column = "1";
    cr_assert_eq(rd("0.5\t2\n0.25\t0\n1\t2\n", &o, &d, &e), NB_OK, "%s", e.message);
    cr_assert_eq(d.n_classes, 3); /* integers: classes 0..max */
    cr_assert_str_eq(d.class_names[1], "1");
    const float T2[] = {0, 0, 1, 1, 0, 0, 0, 0, 1};
    cr_assert_arr_eq(d.T.data, T2, sizeof T2);
    nb_dataset_free(&d);
}

Test(csv, fixed_class_list)
{
    const char *const classes[] = {"versicolor", "setosa"};
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "species";
    o.classes = classes;
    o.n_classes = 2;
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(rd("x,species\n1,setosa\n2,setosa\n", &o, &d, &e), NB_OK);
    cr_assert_eq(d.T.cols, 2);
    cr_assert(d.T.data[0] == 0 && d.T.data[1] == 1);
    cr_assert_str_eq(d.class_names[0], "versicolor");
    nb_dataset_free(&d);
    expect_error("x,species\n1,setosa\n2,virginica\n", &o, NB_ERR_PARSE, 3, 2,
                 "unknown class 'virginica'");
}

Test(csv, missing_values)
{
    expect_error("a,b\n1,2\n3,\n", NULL, NB_ERR_PARSE, 3, 2, "missing value");
    expect_error("a,b\n1,2\n,4\n", NULL, NB_ERR_PARSE, 3, 1, "missing value");
    expect_error("a,b\n1,2\n\"\",4\n", NULL, NB_ERR_PARSE, 3, 1, "missing value");
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "b";
    expect_error("a,b\n1,x\n3, \n", &o, NB_ERR_PARSE, 3, 2, "empty label");
}

Test(csv, non_numeric_fields)
{
    expect_error("a,b\n1,2\n3,4x\n", NULL, NB_ERR_PARSE, 3, 2, "not a number: '4x'");
    expect_error("a,b\n1,abc\n", NULL, NB_ERR_PARSE, 2, 2, "not a number: 'abc'");
    expect_error("a,b\n1,nan\n", NULL, NB_ERR_PARSE, 2, 2, "not a finite");
    expect_error("a,b\n1,1e999\n", NULL, NB_ERR_PARSE, 2, 2, "not a finite");
    expect_error("a,b\n1,1e39\n", NULL, NB_ERR_PARSE, 2, 2, "not a finite"); /* beyond float */
    expect_error("# c\n\na,b\n1,2\n\n# c\n3,\"4\"x\n", NULL, NB_ERR_PARSE, 7, 2,
                 "after a closing quote");
}

Test(csv, nul_bytes_are_errors)
{
    nb_dataset d;
    nb_io_error e;
    memset(&e, 0, sizeof e);
    cr_assert_eq(nb_csv_read_mem(&d, "a,b\n1,2\0junk\n", 14, NULL, &e), NB_ERR_PARSE);
    cr_assert(e.line == 2 && e.column == 2);
    cr_assert_not_null(strstr(e.message, "NUL byte"));
}

Test(csv, ragged_rows)
{
    expect_error("a,b,c\n1,2,3\n4,5\n", NULL, NB_ERR_PARSE, 3, 2, "expected 3 fields, found 2");
    expect_error("a,b\n1,2\n4,5,6\n", NULL, NB_ERR_PARSE, 3, 3, "expected 2 fields, found 3");
    expect_error("a,b\n1,2\n4,5,\n", NULL, NB_ERR_PARSE, 3, 3, "found 3");
}

Test(csv, empty_file_and_header_only)
{
    expect_error("", NULL, NB_ERR_PARSE, 0, 0, "no data rows (empty file)");
    expect_error("\n\n# only comments\n  \n", NULL, NB_ERR_PARSE, 0, 0, "empty file");
    expect_error("a,b,c\n", NULL, NB_ERR_PARSE, 0, 0, "only a header");
    expect_error("a,b,c\r\n# nothing\r\n", NULL, NB_ERR_PARSE, 0, 0, "only a header");
    expect_error("a,\"b\n", NULL, NB_ERR_PARSE, 1, 2, "unterminated quoted field");
}

Test(csv, column_selection_errors)
{
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "nope";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "no column 'nope'");
    o.label_column = "5";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "no column '5'");
    o.label_column = "-3";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "no column '-3'");
    o.label_column = NULL;
    o.target_columns = "a,b";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "no feature columns");
    o.target_columns = "b,1";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "given twice");
    o.target_columns = "b,";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "no column ''");
    o.label_column = "a";
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "not both");
    o.label_column = NULL;
    o.target_columns = NULL;
    o.delimiter = '"';
    expect_error("a,b\n1,2\n", &o, NB_ERR_ARG, 0, 0, "delimiter");
}

Test(csv, file_reading)
{
    const char *dir = io_tmpdir();
    char path[512];
    strcpy(path, io_path(dir, "d.csv"));
    io_write(path, "a,y\n1,0\n2,1\n", 12);
    nb_csv_opts o = nb_csv_opts_default();
    o.label_column = "y";
    nb_dataset d;
    nb_io_error e;
    cr_assert_eq(nb_csv_read(&d, path, &o, &e), NB_OK);
    cr_assert_eq(d.n_classes, 2);
    nb_dataset_free(&d);
    cr_assert_eq(nb_csv_read(&d, io_path(dir, "missing.csv"), &o, &e), NB_ERR_IO);
    cr_assert_not_null(strstr(e.message, "cannot read"));
    cr_assert_eq(nb_csv_read(&d, NULL, &o, &e), NB_ERR_NULL);
    cr_assert_eq(nb_csv_read_mem(&d, NULL, 3, &o, &e), NB_ERR_NULL);
    cr_assert_eq(nb_csv_read_mem(&d, "a\n1\n", 4, NULL, NULL), NB_OK); /* err may be NULL */
    nb_dataset_free(&d);
}
