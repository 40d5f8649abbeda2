/*
 * The PKCS#11 3.0 entry points C_GetInterfaceList and C_GetInterface (3.0 Base §5.4): one
 * interface, "PKCS 11" v2.40, whose list is C_GetFunctionList's. No server: all three work
 * before C_Initialize.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/pkcs11_ext.h"

static CK_FUNCTION_LIST_PTR v2_list(void)
{
	CK_FUNCTION_LIST_PTR fl = NULL;

	assert_int_equal(C_GetFunctionList(&fl), CKR_OK);
	assert_non_null(fl);
	return fl;
}

static void check_interface(const CK_INTERFACE *in)
{
	const CK_FUNCTION_LIST *fl = in->pFunctionList;

	assert_string_equal((const char *)in->pInterfaceName, "PKCS 11");
	assert_ptr_equal(fl, v2_list());
	assert_int_equal(fl->version.major, 2);
	assert_int_equal(fl->version.minor, 40);
	assert_int_equal(in->flags, 0);
}

static void test_interface_list(void **state)
{
	CK_INTERFACE list[3];
	CK_ULONG n = 99;

	(void)state;
	assert_int_equal(C_GetInterfaceList(NULL, &n), CKR_OK);
	assert_int_equal(n, 1);

	n = 0;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 1);

	memset(list, 0, sizeof(list));
	n = 3;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_OK);
	assert_int_equal(n, 1);
	check_interface(&list[0]);

	assert_int_equal(C_GetInterfaceList(list, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterfaceList(NULL, NULL), CKR_ARGUMENTS_BAD);
}

static void test_interface_get(void **state)
{
	CK_UTF8CHAR name[] = "PKCS 11";
	CK_UTF8CHAR other[] = "Vendor teehsm";
	CK_VERSION v240 = { 2, 40 }, v300 = { 3, 0 }, v220 = { 2, 20 };
	CK_INTERFACE junk = { 0 };
	CK_INTERFACE_PTR in = NULL;

	(void)state;
	assert_int_equal(C_GetInterface(NULL, NULL, &in, 0), CKR_OK);
	assert_non_null(in);
	check_interface(in);

	in = NULL;
	assert_int_equal(C_GetInterface(name, &v240, &in, 0), CKR_OK);
	assert_non_null(in);
	check_interface(in);

	in = NULL;
	assert_int_equal(C_GetInterface(name, NULL, &in, 0), CKR_OK);
	check_interface(in);
	in = NULL;
	assert_int_equal(C_GetInterface(NULL, &v240, &in, 0), CKR_OK);
	check_interface(in);

	/* Nothing matches: the spec's CKR_ARGUMENTS_BAD, and no interface. */
	in = &junk;
	assert_int_equal(C_GetInterface(other, NULL, &in, 0), CKR_ARGUMENTS_BAD);
	assert_null(in);
	assert_int_equal(C_GetInterface(name, &v300, &in, 0), CKR_ARGUMENTS_BAD);
	assert_null(in);
	assert_int_equal(C_GetInterface(NULL, &v220, &in, 0), CKR_ARGUMENTS_BAD);
	assert_null(in);
	/* Not fork-safe in the 3.0 sense (a child must call C_Initialize again). */
	assert_int_equal(C_GetInterface(NULL, NULL, &in, CKF_INTERFACE_FORK_SAFE),
			 CKR_ARGUMENTS_BAD);
	assert_null(in);

	assert_int_equal(C_GetInterface(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
}

/* The list the interface gives is usable as is: before C_Initialize it says so. */
static void test_interface_list_before_initialize(void **state)
{
	CK_INTERFACE_PTR in = NULL;
	CK_FUNCTION_LIST_PTR fl = NULL;
	CK_INFO info;

	(void)state;
	assert_int_equal(C_GetInterface(NULL, NULL, &in, 0), CKR_OK);
	fl = in->pFunctionList;
	assert_int_equal(fl->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_ptr_equal(fl->C_GetFunctionList, C_GetFunctionList);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interface_list),
		cmocka_unit_test(test_interface_get),
		cmocka_unit_test(test_interface_list_before_initialize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
