import sys


def main():
    print("Hello from kiln!", sys.version.split()[0])


if __name__ == "__main__":
    main()
